/*
 * conf.h - the configuration model
 *
 * conf_load() parses a libconfig file into an immutable struct conf.  A
 * loaded conf is never changed; reload builds a new one and swaps the
 * pointer.  Readers pin the snapshot they use with conf_ref() and drop it
 * with conf_unref(); the last unref frees it.
 *
 * Durations are seconds; a limit whose max is 0 is disabled.
 *
 * Thread safety: conf_ref/conf_unref are atomic; everything else reads an
 * immutable object.
 * Tests: tests/test_conf.c
 */
#ifndef SASLGUARD_CONF_H
#define SASLGUARD_CONF_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "baseline.h"

enum conf_mode {
	MODE_ENFORCE = 0,
	MODE_MONITOR
};

enum flagged_action {
	FLAGGED_HOLD = 0,	/* quarantine every message of a flagged account */
	FLAGGED_TEMPFAIL,	/* refuse MAIL FROM with 451 4.7.1 */
	FLAGGED_DISCONNECT	/* reply 421 and end the SMTP session */
};

enum fail_action {
	FAIL_ACCEPT = 0,	/* internal error: let the mail through */
	FAIL_TEMPFAIL		/* internal error: ask the client to retry */
};

struct limit {
	uint32_t max;		/* 0 = no limit */
	uint32_t window;	/* seconds */
};

struct limits {
	struct limit messages;
	struct limit recipients;
	uint32_t     recipients_per_message;	/* 0 = no limit */
	struct limit client_addresses;
	int          sender_mismatch;		/* 1 = sender must belong to login */
	struct limit recipient_domains;		/* distinct external domains */
	struct limit distinct_recipients;	/* distinct external recipients */
	struct limit bounces;			/* bounces received (backscatter) */
	uint32_t     new_network_recipients;	/* 0 = off */
	struct limit failed_logins;		/* failures before a success */
	uint32_t     failed_logins_recipients;	/* the lower bar after them */
};

/* The per-account baselines (baseline.h) and how long they are kept. */
struct conf_baseline {
	int      enabled;			/* judge bursts against the habit */
	uint32_t keep;				/* seconds an idle history is kept */
	struct baseline_params p;
};

struct conf_exception {
	char         *user;		/* owned; canonical (lower case) */
	struct limits limits;		/* global limits overridden by the entry */
	char        **senders;		/* owned; "addr@dom" or "@dom", lower case */
	size_t        nsenders;
};

struct conf_cmd {
	char   *path;			/* owned; absolute program path, NULL = off */
	char  **argv;			/* owned; NULL-terminated, argv[0] = path */
	uint32_t timeout;		/* seconds */
};

struct conf_redis {
	char    *address;		/* owned; "host:port" or "/path.sock"; NULL = off */
	char    *password;		/* owned; NULL = none */
	char    *prefix;		/* owned; key prefix, default "saslguard:" */
	uint32_t connect_timeout_ms;
	uint32_t timeout_ms;
	char    *server_id;		/* owned; this server's name in the cluster */
};

struct conf {
	int      refs;			/* atomic; see conf_ref() */
	char    *path;			/* owned; file it was read from */

	char    *milter_socket;		/* owned; libmilter spec "unix:/path" or "inet:port@host" */
	mode_t   milter_socket_mode;	/* for unix sockets */
	char    *milter_socket_group;	/* owned; NULL = keep */
	uint32_t milter_timeout;	/* seconds, libmilter I/O timeout */
	enum conf_mode mode;
	enum flagged_action flagged_action;
	enum fail_action fail_action;
	char    *state_db;		/* owned */
	char    *journal;		/* owned; tamper-evident journal; NULL = off */
	uint32_t retention;		/* seconds queue IDs are kept in the store */

	char    *control_socket;	/* owned; NULL = no control socket */
	mode_t   control_socket_mode;
	uid_t   *control_uids;		/* owned; allowed peer uids (root always) */
	size_t   ncontrol_uids;
	gid_t   *control_gids;		/* owned; allowed peer primary/supplementary gids */
	size_t   ncontrol_gids;

	char    *user;			/* owned; run as this user; NULL = stay */
	char    *postfix_config_directory; /* owned; NULL = Postfix default */
	char    *postqueue_path;	/* owned */
	char    *postsuper_path;	/* owned */
	int      hold_queued_on_flag;	/* put queued mail on hold at flag time */
	int      queue_match_sender;	/* queued sender must equal the recorded one */
	uint32_t release_requeue_age;	/* held longer: release with postsuper -r */

	int      strip_tag;		/* canonicalise "a+tag@d" to "a@d" */
	char    *recipient_delimiter;	/* owned; characters that start a tag */
	int      ipv4_prefix;		/* 0..32 */
	int      ipv6_prefix;		/* 0..64 */

	struct limits limits;		/* defaults for every account */
	struct conf_exception *exceptions; /* owned */
	size_t   nexceptions;

	struct conf_baseline baseline;
	char   **local_domains;		/* owned; sorted, lower case */
	size_t   nlocal_domains;

	char   **webmail_hosts;		/* owned; addresses as inet_ntop writes them */
	size_t   nwebmail_hosts;
	char    *webmail_header;	/* owned; trusted from webmail_hosts only */
	char    *auth_log;		/* owned; maillog to follow; NULL = off */

	struct conf_cmd on_flag;	/* notify hook */
	struct conf_redis redis;

	char    *syslog_facility;	/* owned; default "mail" */
};

/*
 * conf_load - read and validate path
 *
 * Returns 0 and a new conf (refs = 1) in *out, or -1 with every error found
 * written into err as lines "file:line: message" (newline separated, the
 * buffer truncated if it is too small).
 */
int	conf_load(const char *path, struct conf **out, char *err, size_t errlen);

/* conf_default - a conf with every default, no file (refs = 1); NULL on ENOMEM */
struct conf *conf_default(void);

/* conf_ref - pin a snapshot; returns c */
struct conf *conf_ref(struct conf *c);

/* conf_unref - drop a pin; frees on the last one; accepts NULL */
void	conf_unref(struct conf *c);

/*
 * conf_account - the limits and allowed senders for canonical user
 *
 * Returns the exception entry's limits when user has one, else the global
 * ones; *senders and *nsenders get the entry's allowed senders (NULL/0 without).
 */
const struct limits *conf_account(const struct conf *c, const char *user,
	    char *const **senders, size_t *nsenders);

/* conf_webmail_host - 1 when the printable address is a webmail host */
int	conf_webmail_host(const struct conf *c, const char *addr);

/* conf_local_domain - 1 when lower-case domain is one of local_domains */
int	conf_local_domain(const struct conf *c, const char *domain);

/* conf_max_window - the longest window of any limit, in seconds */
uint32_t conf_max_window(const struct conf *c);

/* conf_parse_duration - "30s" "10m" "1h" "2d" "1w" or a bare number of seconds */
int	conf_parse_duration(const char *s, uint32_t *secs);

#endif
