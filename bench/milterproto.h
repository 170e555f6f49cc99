/*
 * milterproto.h - the MTA side of the milter protocol, for the load generator
 *
 * One struct mp_conn is one connection to a filter: it connects, sends the
 * option negotiation an MTA sends, remembers what the filter asked for
 * (protocol steps to skip, replies it will not send, macro lists per
 * stage), and frames commands as a 4-byte big-endian length, one command
 * byte and the data.  Commands are queued in an output buffer and written
 * in one system call when a reply is awaited (mp_read) or on mp_flush, so
 * stages without a reply cost the filter a read, not a round trip.
 *
 * Errors are returned as -1 with a message in the caller's buffer.
 *
 * Thread safety: one connection belongs to one thread.
 * Tests: driven against the no-op filters by bench/run.
 */
#ifndef SASLGUARD_MILTERPROTO_H
#define SASLGUARD_MILTERPROTO_H

#include <stddef.h>
#include <stdint.h>

/* macro stages, in the order of SMFIM_* in mfapi.h */
enum mp_stage {
	MP_CONNECT = 0,
	MP_HELO,
	MP_ENVFROM,
	MP_ENVRCPT,
	MP_DATA,
	MP_EOM,
	MP_EOH,
	MP_NSTAGES
};

struct mp_addr {
	int  family;    /* AF_UNIX or AF_INET */
	char path[108]; /* AF_UNIX */
	char host[256]; /* AF_INET */
	char port[16];
};

struct mp_symlist {
	char  *buf;   /* owned; the names, NUL separated */
	char **names; /* owned; pointers into buf */
	size_t n;
};

struct mp_conn {
	int               fd;         /* -1 when closed */
	int               timeout_ms; /* per read or write */
	uint32_t          version;    /* negotiated */
	uint32_t          actions;
	uint32_t          pflags; /* SMFIP_* the filter asked for */
	int               has_symlist[MP_NSTAGES];
	struct mp_symlist symlist[MP_NSTAGES]; /* filter's macro lists */
	unsigned char    *out;                 /* owned; queued commands */
	size_t            outlen, outcap;
	unsigned char    *in; /* owned; received bytes */
	size_t            inoff, inlen, incap;
};

/* mp_parse_addr - "unix:/path", "local:/path" or "inet:port@host" */
int mp_parse_addr(
    const char *spec, struct mp_addr *a, char *err, size_t errlen);

/* mp_init - an unconnected conn; mp_close frees what it holds */
void mp_init(struct mp_conn *c, int timeout_ms);

/* mp_connect - open the socket; 0 or -1 */
int mp_connect(
    struct mp_conn *c, const struct mp_addr *a, char *err, size_t errlen);

/*
 * mp_negotiate - send SMFIC_OPTNEG offering version, actions and protocol,
 * read the filter's reply and its macro lists
 */
int mp_negotiate(struct mp_conn *c, uint32_t version, uint32_t actions,
    uint32_t protocol, char *err, size_t errlen);

/* mp_close - close the socket and free buffers; accepts a closed conn */
void mp_close(struct mp_conn *c);

/* mp_put - queue one command with its data; 0 or -1 (ENOMEM) */
int mp_put(struct mp_conn *c, int cmd, const void *data, size_t len);

/* mp_put_strs - queue one command whose data is n NUL-terminated strings */
int mp_put_strs(struct mp_conn *c, int cmd, const char *const *strs, size_t n);

/* mp_flush - write every queued command */
int mp_flush(struct mp_conn *c, char *err, size_t errlen);

/*
 * mp_read - flush, then read one reply packet; *data points into the
 * connection's buffer and stays valid until the next mp_read
 */
int mp_read(struct mp_conn *c, int *cmd, const unsigned char **data,
    size_t *len, char *err, size_t errlen);

/* mp_wants - 1 when the filter did not ask to skip the step "no_flag" */
int mp_wants(const struct mp_conn *c, uint32_t no_flag);

#endif
