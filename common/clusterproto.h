/*
 * clusterproto.h - what the servers of a cluster say to each other in Redis
 *
 * The pure half of cluster mode (milter/cluster.c is the half that talks
 * to Redis): key names, the arguments of the end-of-message script and
 * the decoding of its reply, the flag records kept in the flags hash, and
 * the messages of the two Pub/Sub channels.  Nothing here does I/O.
 *
 * Keys (P is the configured prefix, U the canonical login):
 *   P "flags"            hash U -> flag record (see below)
 *   P "unflags"          sorted set U scored by the time of its last unflag
 *   P "m:{" U "}"        message window: field "w" slot width, "h" newest
 *                        slot, one field per slot number -> count
 *   P "r:{" U "}"        recipient window, the same layout
 *   P "n:{" U "}"        client networks: hex network key -> last seen
 *   P "servers"          set of server ids ever seen
 *   P "server:" ID       heartbeat of a live server (expires)
 *   P "reply:" REQ       replies to one delete/release request (expires)
 * Channels: P "chan:flags" (flag and unflag events), P "chan:ctl"
 * (delete/release requests).  The braces are Redis Cluster hash tags: the
 * three keys of one user live in one slot.
 *
 * Why hashes of slots and not sorted sets of events: a window is the same
 * WINDOW_SLOTS counters as common/window.c, so a user costs at most ten
 * small fields per window whatever the rate (a sorted set grows with every
 * message), the totals are the same conservative ones as in local mode,
 * and each key expires on its own after the longest window.
 *
 * Records and messages are space-separated key=value pairs whose values
 * are escaped with escape_value(), e.g.
 *   at=1700000000 limit=messages count=13 max=12 window=3600
 *   source=policy server=mx1 client=192.0.2.1 queue_id=4Xk2 reason=
 * Unknown keys are ignored, so a newer server may add fields.
 *
 * Thread safety: pure functions; the script texts are constants.
 * Tests: tests/test_clusterproto.c
 */
#ifndef SASLGUARD_CLUSTERPROTO_H
#define SASLGUARD_CLUSTERPROTO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "policy.h"

#define CLUSTER_KEY_MAX     512  /* a key or channel name, with the NUL */
#define CLUSTER_RECORD_MAX  2048 /* a flag record or a message, with the NUL */
#define CLUSTER_EOM_KEYS    4
#define CLUSTER_EOM_ARGS    17
#define CLUSTER_EOM_REPLY   7 /* integers in the script's reply */
#define CLUSTER_ARGV_MAX    (3 + CLUSTER_EOM_KEYS + CLUSTER_EOM_ARGS)
#define CLUSTER_NETS_MAX    64 /* networks remembered per user (NETSET_MAX) */
#define CLUSTER_UNFLAG_KEEP (30 * 86400) /* seconds unflags are remembered */

/* The end-of-message script: check, count and latch in one call. */
extern const char clusterproto_eom_script[];
/* Push one flag: set it unless present, and announce it. */
extern const char clusterproto_flag_script[];
/* Push one unflag: drop a flag not newer than it, remember, announce. */
extern const char clusterproto_unflag_script[];

/* The keys of one user. */
struct cluster_keys {
	char flags[CLUSTER_KEY_MAX];
	char msgs[CLUSTER_KEY_MAX];
	char rcpts[CLUSTER_KEY_MAX];
	char nets[CLUSTER_KEY_MAX];
};

/*
 * The arguments of one EVALSHA/EVAL of clusterproto_eom_script: argv[0]
 * and argv[1] (command, SHA-1 or body) are the caller's; argv[2] onwards
 * point into the struct (do not copy it by value).
 */
struct cluster_eom_args {
	int                 argc;
	const char         *argv[CLUSTER_ARGV_MAX];
	size_t              argvlen[CLUSTER_ARGV_MAX];
	struct cluster_keys keys;
	char                num[10][24]; /* numbers as text */
	char                net[24];
	char                pre_limit[32];
	char                pre_count[24];
	char                pre_max[24];
	char                ttl[24];
	char                channel[CLUSTER_KEY_MAX];
	char                tail[CLUSTER_RECORD_MAX];
	char                euser[3 * 321];
};

/* What the script answered, beyond the usage. */
struct cluster_eom_result {
	int    committed; /* the message was counted in both windows */
	int    latched;   /* the script set the flag (and published it) */
	time_t now;       /* Redis's clock when it decided */
	int    agree;     /* 1: the script's commit matches policy_eom */
};

/* A flag as kept in the flags hash. */
struct cluster_flag {
	time_t            at;
	enum policy_limit limit;
	uint32_t          count;
	uint32_t          max;
	uint32_t          window;
	char              source[32]; /* "policy", "operator" */
	char              server[65]; /* the server that raised it */
	char              client[64];
	char              queue_id[64];
	char              reason[256];
};

enum cluster_queue_op { CLUSTER_OP_DELETE = 0, CLUSTER_OP_RELEASE };

/* One server's answer to a delete/release request. */
struct cluster_result {
	char          server[65];
	unsigned long done; /* deleted, or released (requeued included) */
	unsigned long requeued;
	unsigned long hold, incoming, active, deferred, other;
	char          error[320]; /* "" when it worked */
};

/*
 * clusterproto_key - prefix + part (+ "{" user "}" when user is not NULL)
 * into buf; 0, or -1 when it does not fit
 */
int clusterproto_key(char *buf, size_t len, const char *prefix,
    const char *part, const char *user);

/* clusterproto_keys - the four keys of user; 0 or -1 (too long) */
int clusterproto_keys(
    struct cluster_keys *k, const char *prefix, const char *user);

/*
 * clusterproto_ttl - seconds a user's keys must live for limits l: the
 * longest window plus one slot width (a total may look that far back)
 */
uint32_t clusterproto_ttl(const struct limits *l);

/*
 * clusterproto_tail - the part of a flag record the caller knows:
 * " source=.. server=.. client=.. queue_id=.. reason=.." (values escaped,
 * NULL as empty); 0, or -1 when it does not fit
 */
int clusterproto_tail(char *buf, size_t len, const char *source,
    const char *server, const char *client, const char *queue_id,
    const char *reason);

/*
 * clusterproto_eom_args - the keys and ARGV of the end-of-message script
 * for user under limits l, facts f, the client network (NULL = unknown),
 * in mode; tail from clusterproto_tail() ends the record of a flag the
 * script latches, channel is where it announces it.  The checks that need
 * no counter (recipients per message, sender mismatch) are made here, in
 * the order of policy_eom(), and passed as a broken limit.
 * Returns 0, or -1 with err when something does not fit.
 */
int clusterproto_eom_args(struct cluster_eom_args *a, const char *prefix,
    const char *user, const struct limits *l, enum conf_mode mode,
    const struct policy_facts *f, const uint64_t *net, const char *channel,
    const char *tail, char *err, size_t len);

/*
 * clusterproto_eom_decide - the script's reply v[0..n-1] into a decision
 *
 * Decodes the usage the script saw (flagged, messages, recipients,
 * networks) into *u and asks policy_eom() with l, mode and f, so the
 * decision fields are exactly those of local mode; r says whether the
 * script counted the message and latched the flag, and whether that
 * agrees with the decision.  Counts saturate at UINT32_MAX.
 * Returns 0, or -1 with err for a reply of the wrong shape.
 */
int clusterproto_eom_decide(const long long *v, size_t n,
    const struct limits *l, enum conf_mode mode, const struct policy_facts *f,
    struct policy_usage *u, struct cluster_eom_result *r,
    struct policy_decision *d, char *err, size_t len);

/* clusterproto_flag_format - a flag record; length, or -1 when it does not fit */
int clusterproto_flag_format(
    char *buf, size_t len, const struct cluster_flag *f);

/*
 * clusterproto_flag_parse - a flag record into f
 *
 * "at" and "limit" are required (an unknown limit name reads as
 * LIMIT_OPERATOR); other fields default to 0 or "".  Returns 0, or -1 with
 * err for a malformed record.
 */
int clusterproto_flag_parse(
    const char *s, struct cluster_flag *f, char *err, size_t len);

/*
 * clusterproto_kv_get - the unescaped value of key in a key=value record
 *
 * Returns 1 and the value in out, 0 when key is absent, -1 when the value
 * is malformed or does not fit.
 */
int clusterproto_kv_get(const char *s, const char *key, char *out, size_t len);

/* clusterproto_result_format - a queue request's reply; length or -1 */
int clusterproto_result_format(
    char *buf, size_t len, const struct cluster_result *r);

/* clusterproto_result_parse - the inverse; 0, or -1 with err */
int clusterproto_result_parse(
    const char *s, struct cluster_result *r, char *err, size_t len);

/* clusterproto_op_name - "delete" or "release" */
const char *clusterproto_op_name(enum cluster_queue_op op);

/* clusterproto_op_parse - the inverse; 0, or -1 for an unknown name */
int clusterproto_op_parse(const char *name, enum cluster_queue_op *op);

#endif
