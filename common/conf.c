/*
 * conf.c - libconfig file -> immutable, reference-counted struct conf
 *
 * The only file that knows libconfig.  conf_load() starts from the values
 * of conf_default() and applies each key it finds.  Every group is checked
 * against the table of its keys, so a misspelt key is an error instead of
 * a silently ignored line.  Problems are collected, not just the first:
 * each one becomes a line "file:line: message" in the caller's buffer, and
 * a conf is returned only when there are none.  libconfig stops at the
 * first syntax error, so that one is reported alone.
 *
 * Exceptions are built after the global limits and the address settings
 * are known, so the order of the groups in the file does not matter: an
 * entry starts as a copy of the global limits and the keys it names
 * replace single fields ("messages = { max = 5000; }" keeps the global
 * window).  The entries are sorted by user for conf_account()'s binary
 * search, which runs on every transaction.
 *
 * User and group names of the control socket are resolved at load time
 * (getpwnam_r/getgrnam_r), so an unknown name is reported with its line;
 * a decimal number is taken as an id without a lookup.  uid 0 is always
 * in control_uids.  The default control_allow_groups = [ "saslguard" ]
 * gives no gid on a machine without that group, rather than failing.
 *
 * Thread safety: conf_load() and conf_default() build a new object and
 * share nothing; conf_ref()/conf_unref() are atomic; the rest only reads
 * an immutable object.
 * Tests: tests/test_conf.c
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "addr.h"
#include "conf.h"
#include "duration.h"
#include "netset.h"

#ifndef PATH_POSTQUEUE
#define PATH_POSTQUEUE "/usr/sbin/postqueue"
#endif
#ifndef PATH_POSTSUPER
#define PATH_POSTSUPER "/usr/sbin/postsuper"
#endif

#define DEF_MILTER_SOCKET  "unix:/run/saslguard/milter.sock"
#define DEF_SOCKET_GROUP   "postfix"
#define DEF_STATE_DB       "/var/lib/saslguard/state.db"
#define DEF_JOURNAL        "/var/lib/saslguard/journal.jsonl"
#define DEF_CONTROL_SOCKET "/run/saslguard/control.sock"
#define DEF_CONTROL_GROUP  "saslguard"
#define DEF_DELIMITER      "+"
#define DEF_REDIS_PREFIX   "saslguard:"
#define DEF_FACILITY       "mail"

#define MINUTE 60u
#define HOUR   (60u * MINUTE)
#define DAY    (24u * HOUR)
#define WEEK   (7u * DAY)

#define LIMIT_MAX    1000000000u /* a larger limit is a typo */
#define WINDOW_MIN   1u
#define WINDOW_MAX   (30u * DAY)
#define TIMEOUT_MAX  HOUR   /* milter_timeout, on_flag.timeout */
#define REDIS_MS_MAX 60000u /* redis timeouts, milliseconds */
#define NAME_MAX_LEN 64     /* server_id, redis prefix, delimiters */
#define PWBUF_MAX    (1024 * 1024)

/* the state of one load: where the errors go */
struct ctx {
	const char *path; /* file named in errors without a setting */
	char       *err;  /* caller's buffer; NULL when errlen is 0 */
	size_t      errlen;
	size_t      used; /* bytes written to err, without the NUL */
	int         nerr;
};

/* an exception while it is being read: the setting gives its line */
struct xentry {
	struct conf_exception   e;
	const config_setting_t *s;
};

static const char *const top_keys[] = { "milter_socket", "milter_socket_mode",
	"milter_socket_group", "milter_timeout", "mode", "flagged_action",
	"fail_action", "state_db", "journal", "retention", "control_socket",
	"control_socket_mode", "control_allow_users", "control_allow_groups",
	"user", "postfix_config_directory", "postqueue", "postsuper",
	"hold_queued_on_flag", "queue_match_sender", "release_requeue_age",
	"addresses", "limits", "exceptions", "on_flag",
	"redis", "syslog_facility", "baseline", "local_domains", "auth_log",
	"webmail", NULL };
static const char *const webmail_keys[] = { "hosts", "header", NULL };
static const char *const address_keys[] = { "strip_tag", "recipient_delimiter",
	"ipv4_prefix", "ipv6_prefix", NULL };
static const char *const limits_keys[] = { "messages", "recipients",
	"recipients_per_message", "client_addresses", "sender_mismatch",
	"recipient_domains", "distinct_recipients", "bounces",
	"new_network_recipients", "failed_logins", NULL };
static const char *const exception_keys[] = { "user", "senders", "messages",
	"recipients", "recipients_per_message", "client_addresses",
	"sender_mismatch", "recipient_domains", "distinct_recipients",
	"bounces", "new_network_recipients", "failed_logins", NULL };
static const char *const failed_keys[] = { "max", "window", "recipients",
	NULL };
static const char *const baseline_keys[] = { "enabled", "min_history",
	"messages_floor", "recipients_floor", "factor", "sigmas", "span", "keep",
	NULL };
static const char *const limit_keys[] = { "max", "window", NULL };
static const char *const on_flag_keys[] = { "command", "timeout", NULL };
static const char *const redis_keys[] = { "address", "password", "prefix",
	"connect_timeout", "timeout", "server_id", NULL };

static const char *const mode_names[] = { "enforce", "monitor", NULL };
static const char *const flagged_names[] = { "hold", "tempfail", "disconnect",
	NULL };
static const char *const fail_names[] = { "accept", "tempfail", NULL };
static const char *const facility_names[] = { "mail", "daemon", "user",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6",
	"local7", NULL };

static void verror(struct ctx *, const char *, unsigned, const char *, va_list)
    __attribute__((format(printf, 4, 0)));
static void error_at(struct ctx *, const char *, unsigned, const char *, ...)
    __attribute__((format(printf, 4, 5)));
static void conf_error(struct ctx *, const config_setting_t *, const char *,
    ...) __attribute__((format(printf, 3, 4)));

/* verror - append "file:line: message" (or "file: message") to x->err */
static void
verror(
    struct ctx *x, const char *file, unsigned line, const char *fmt, va_list ap)
{
	char   msg[512];
	size_t room;
	int    n;

	x->nerr++;
	if (x->err == NULL || x->errlen == 0 || x->used + 1 >= x->errlen)
		return;
	/* a message longer than msg is cut; it still names file and line */
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	room = x->errlen - x->used;
	if (line > 0)
		n = snprintf(x->err + x->used, room, "%s%s:%u: %s",
		    x->used > 0 ? "\n" : "", file, line, msg);
	else
		n = snprintf(x->err + x->used, room, "%s%s: %s",
		    x->used > 0 ? "\n" : "", file, msg);
	if (n < 0)
		x->err[x->used] = '\0';
	else if ((size_t) n >= room)
		x->used = x->errlen - 1; /* truncated: the buffer is full */
	else
		x->used += (size_t) n;
}

/* error_at - record an error at file:line (line 0: no line) */
static void
error_at(struct ctx *x, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(x, file, line, fmt, ap);
	va_end(ap);
}

/* conf_error - record an error at the line of setting s */
static void
conf_error(struct ctx *x, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = x->path;
	unsigned    line = 0;
	va_list     ap;

	if (s != NULL) {
		if (config_setting_source_file(s) != NULL)
			file = config_setting_source_file(s);
		line = config_setting_source_line(s);
	}
	va_start(ap, fmt);
	verror(x, file, line, fmt, ap);
	va_end(ap);
}

/*
 * setting_name - dotted name of s for messages: "limits.messages.max",
 * "exceptions[1].user"; a name too long for buf is cut, which only
 * shortens a message
 */
static void
setting_name(const config_setting_t *s, char *buf, size_t len)
{
	const config_setting_t *parent = config_setting_parent(s);
	size_t                  n;

	buf[0] = '\0';
	if (parent == NULL)
		return;
	setting_name(parent, buf, len);
	n = strlen(buf);
	if (config_setting_name(s) != NULL)
		(void) snprintf(buf + n, len - n, "%s%s", n > 0 ? "." : "",
		    config_setting_name(s));
	else
		(void) snprintf(
		    buf + n, len - n, "[%d]", config_setting_index(s));
}

/* is_digits - 1 when s is one or more decimal digits and nothing else */
static int
is_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* parse_u32 - decimal digits s (no sign, no space) into *v; -1 on overflow */
static int
parse_u32(const char *s, const char *end, uint32_t *v)
{
	uint64_t n = 0;

	if (s == end)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (uint64_t) (*s - '0');
		if (n > UINT32_MAX)
			return -1;
	}
	*v = (uint32_t) n;
	return 0;
}

/* conf_parse_duration - "30s" "10m" "1h" "2d" "1w" or a bare number of seconds */
int
conf_parse_duration(const char *s, uint32_t *secs)
{
	const char *end;
	uint32_t    n, unit = 1;

	if (s == NULL || *s == '\0')
		return -1;
	end = s + strlen(s);
	switch (end[-1]) {
	case 's':
		unit = 1;
		end--;
		break;
	case 'm':
		unit = MINUTE;
		end--;
		break;
	case 'h':
		unit = HOUR;
		end--;
		break;
	case 'd':
		unit = DAY;
		end--;
		break;
	case 'w':
		unit = WEEK;
		end--;
		break;
	default:
		break;
	}
	if (parse_u32(s, end, &n) == -1)
		return -1;
	if ((uint64_t) n * unit > UINT32_MAX)
		return -1;
	*secs = n * unit;
	return 0;
}

/* parse_duration_ms - "200ms" or any conf_parse_duration() form, in ms */
static int
parse_duration_ms(const char *s, uint32_t *ms)
{
	size_t   len = strlen(s);
	uint32_t secs;

	if (len > 2 && strcmp(s + len - 2, "ms") == 0)
		return parse_u32(s, s + len - 2, ms);
	if (conf_parse_duration(s, &secs) == -1 ||
	    (uint64_t) secs * 1000 > UINT32_MAX)
		return -1;
	*ms = secs * 1000;
	return 0;
}

/* check_keys - report every member of group g that is not in known */
static void
check_keys(struct ctx *x, const config_setting_t *g, const char *const *known)
{
	char name[256];
	int  i, k, len = config_setting_length(g);

	for (i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(g, i);
		const char             *key = config_setting_name(e);

		for (k = 0; known[k] != NULL; k++)
			if (strcmp(known[k], key) == 0)
				break;
		if (known[k] != NULL)
			continue;
		setting_name(g, name, sizeof(name));
		if (name[0] == '\0')
			conf_error(x, e, "unknown key '%s'", key);
		else
			conf_error(x, e, "unknown key '%s' in %s", key, name);
	}
}

/* get_group - member key of g when it is a group; NULL when absent or wrong */
static const config_setting_t *
get_group(struct ctx *x, const config_setting_t *g, const char *key,
    const char *example)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	char                    name[256];

	if (s == NULL || config_setting_is_group(s))
		return s;
	setting_name(s, name, sizeof(name));
	conf_error(x, s, "%s must be a group %s", name, example);
	return NULL;
}

/* get_string - the string value of s, or NULL (reported) when not a string */
static const char *
get_string(struct ctx *x, const config_setting_t *s)
{
	char name[256];

	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return config_setting_get_string(s);
	setting_name(s, name, sizeof(name));
	conf_error(x, s, "%s must be a string", name);
	return NULL;
}

/* replace - free *dst and make it a copy of v (NULL allowed) */
static int
replace(struct ctx *x, const config_setting_t *s, char **dst, const char *v)
{
	char *copy = NULL;

	if (v != NULL && (copy = strdup(v)) == NULL) {
		conf_error(x, s, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = copy;
	return 0;
}

#define STR_ABSPATH  0x01 /* must start with '/' */
#define STR_NONEMPTY 0x02 /* "" is an error */
#define STR_EMPTYOFF 0x04 /* "" stores NULL */

/* set_string - the string at key of g into *dst, checked by flags */
static void
set_string(struct ctx *x, const config_setting_t *g, const char *key, int flags,
    char **dst)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	const char             *v;
	char                    name[256];

	if (s == NULL || (v = get_string(x, s)) == NULL)
		return;
	setting_name(s, name, sizeof(name));
	if (*v == '\0' && (flags & STR_EMPTYOFF)) {
		(void) replace(x, s, dst, NULL);
		return;
	}
	if (*v == '\0' && (flags & (STR_NONEMPTY | STR_ABSPATH))) {
		conf_error(x, s, "%s must not be empty", name);
		return;
	}
	if ((flags & STR_ABSPATH) && *v != '/') {
		conf_error(
		    x, s, "%s must be an absolute path, not \"%s\"", name, v);
		return;
	}
	(void) replace(x, s, dst, v);
}

/* set_bool - the boolean at key of g into *dst */
static void
set_bool(struct ctx *x, const config_setting_t *g, const char *key, int *dst)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	char                    name[256];

	if (s == NULL)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		setting_name(s, name, sizeof(name));
		conf_error(x, s, "%s must be true or false", name);
		return;
	}
	*dst = config_setting_get_bool(s) ? 1 : 0;
}

/* set_uint - the integer at key of g, lo..hi, into *dst */
static void
set_uint(struct ctx *x, const config_setting_t *g, const char *key, uint32_t lo,
    uint32_t hi, uint32_t *dst)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	char                    name[256];
	long long               v;

	if (s == NULL)
		return;
	setting_name(s, name, sizeof(name));
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		conf_error(x, s, "%s must be an integer", name);
		return;
	}
	v = config_setting_get_int64(s);
	if (v < (long long) lo || v > (long long) hi) {
		conf_error(x, s, "%s must be between %u and %u, not %lld", name,
		    (unsigned) lo, (unsigned) hi, v);
		return;
	}
	*dst = (uint32_t) v;
}

/* set_prefix - a prefix length 0..hi at key of g into *dst */
static void
set_prefix(struct ctx *x, const config_setting_t *g, const char *key,
    uint32_t hi, int *dst)
{
	uint32_t v = (uint32_t) *dst;

	set_uint(x, g, key, 0, hi, &v);
	*dst = (int) v;
}

/* set_duration - the duration at key of g, lo..hi seconds, into *dst */
static void
set_duration(struct ctx *x, const config_setting_t *g, const char *key,
    uint32_t lo, uint32_t hi, uint32_t *dst)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	char                    name[256], los[32], his[32];
	uint32_t                v;
	long long               n;

	if (s == NULL)
		return;
	setting_name(s, name, sizeof(name));
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		if (conf_parse_duration(config_setting_get_string(s), &v) ==
		    -1) {
			conf_error(x, s,
			    "%s: bad duration \"%s\" (use a number of seconds "
			    "or \"30s\", \"10m\", \"1h\", \"1d\", \"1w\")",
			    name, config_setting_get_string(s));
			return;
		}
		break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		n = config_setting_get_int64(s);
		if (n < 0 || n > (long long) UINT32_MAX) {
			conf_error(x, s, "%s: bad duration %lld", name, n);
			return;
		}
		v = (uint32_t) n;
		break;
	default:
		conf_error(x, s, "%s must be a duration such as \"1h\"", name);
		return;
	}
	if (v < lo || v > hi) {
		duration_format(lo, los, sizeof(los));
		duration_format(hi, his, sizeof(his));
		conf_error(
		    x, s, "%s must be between %s and %s", name, los, his);
		return;
	}
	*dst = v;
}

/* set_duration_ms - a duration at key of g in milliseconds, 1..hi */
static void
set_duration_ms(struct ctx *x, const config_setting_t *g, const char *key,
    uint32_t hi, uint32_t *dst)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	const char             *v;
	char                    name[256];
	uint32_t                ms;
	long long               n;

	if (s == NULL)
		return;
	setting_name(s, name, sizeof(name));
	if (config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64) {
		/* a bare number is seconds, as everywhere else */
		n = config_setting_get_int64(s);
		if (n < 0 || n > (long long) (UINT32_MAX / 1000)) {
			conf_error(x, s, "%s: bad duration %lld", name, n);
			return;
		}
		ms = (uint32_t) n * 1000;
	} else if ((v = get_string(x, s)) == NULL) {
		return;
	} else if (parse_duration_ms(v, &ms) == -1) {
		conf_error(x, s,
		    "%s: bad duration \"%s\" (use \"200ms\", \"2s\" or a "
		    "number of seconds)",
		    name, v);
		return;
	}
	if (ms < 1 || ms > hi) {
		conf_error(x, s, "%s must be between 1ms and %ums", name,
		    (unsigned) hi);
		return;
	}
	*dst = ms;
}

/* set_enum - the string at key of g, one of names[], as its index */
static void
set_enum(struct ctx *x, const config_setting_t *g, const char *key,
    const char *const *names, const char *expect, int *dst)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	const char             *v;
	char                    name[256];
	int                     i;

	if (s == NULL)
		return;
	setting_name(s, name, sizeof(name));
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		v = config_setting_get_string(s);
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(names[i], v) == 0) {
				*dst = i;
				return;
			}
	}
	conf_error(x, s, "%s must be %s", name, expect);
}

/* set_mode - an octal permission string such as "0660" at key of g */
static void
set_mode(struct ctx *x, const config_setting_t *g, const char *key, mode_t *dst)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	const char             *v, *p;
	char                    name[256];
	unsigned                m = 0;

	if (s == NULL)
		return;
	setting_name(s, name, sizeof(name));
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		goto bad;
	v = config_setting_get_string(s);
	if (*v == '\0' || strlen(v) > 4)
		goto bad;
	for (p = v; *p != '\0'; p++) {
		if (*p < '0' || *p > '7')
			goto bad;
		m = m * 8 + (unsigned) (*p - '0');
	}
	if (m > 0777)
		goto bad;
	*dst = (mode_t) m;
	return;
bad:
	conf_error(
	    x, s, "%s must be an octal mode string such as \"0660\"", name);
}

/* valid_port - 1 when [s, end) is a port number 1..65535 */
static int
valid_port(const char *s, const char *end)
{
	uint32_t port;

	return parse_u32(s, end, &port) == 0 && port >= 1 && port <= 65535;
}

/* valid_milter_socket - "unix:/path", "local:/path", "/path", "inet[6]:port[@host]" */
static int
valid_milter_socket(const char *v)
{
	const char *p, *at;

	if (v[0] == '/')
		return v[1] != '\0';
	if (strncmp(v, "unix:", 5) == 0 || strncmp(v, "local:", 6) == 0) {
		p = strchr(v, ':') + 1;
		return p[0] == '/' && p[1] != '\0';
	}
	if (strncmp(v, "inet:", 5) == 0 || strncmp(v, "inet6:", 6) == 0) {
		p = strchr(v, ':') + 1;
		if ((at = strchr(p, '@')) == NULL)
			return valid_port(p, p + strlen(p));
		return valid_port(p, at) && at[1] != '\0';
	}
	return 0;
}

/* valid_redis_address - "host:port" or an absolute socket path */
static int
valid_redis_address(const char *v)
{
	const char *colon;

	if (v[0] == '/')
		return v[1] != '\0';
	if ((colon = strrchr(v, ':')) == NULL || colon == v)
		return 0;
	return valid_port(colon + 1, colon + strlen(colon));
}

/* valid_token - 1..NAME_MAX_LEN bytes of [A-Za-z0-9._-] */
static int
valid_token(const char *v)
{
	size_t len = strlen(v);

	return len >= 1 && len <= NAME_MAX_LEN &&
	       strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789._-") == len;
}

/*
 * resolve_id - the uid (or gid when group) of name, a name or a decimal id;
 * 0, -1 when there is no such name, -2 on a lookup error (errno)
 */
static int
resolve_id(const char *name, int group, unsigned long *id)
{
	struct passwd pw, *pwp = NULL;
	struct group  gr, *grp = NULL;
	uint32_t      n;
	size_t        size = 1024;
	char         *buf;
	int           rc, found;

	if (is_digits(name)) {
		/* (id_t) -1 means "no id" to chown() and friends */
		if (parse_u32(name, name + strlen(name), &n) == -1 ||
		    n == UINT32_MAX)
			return -1;
		*id = n;
		return 0;
	}
	for (;;) {
		if ((buf = malloc(size)) == NULL)
			return -2;
		if (group)
			rc = getgrnam_r(name, &gr, buf, size, &grp);
		else
			rc = getpwnam_r(name, &pw, buf, size, &pwp);
		if (rc == ERANGE && size < PWBUF_MAX) {
			free(buf);
			size *= 2;
			continue;
		}
		break;
	}
	found = group ? grp != NULL : pwp != NULL;
	if (found)
		*id = group ? (unsigned long) grp->gr_gid
			    : (unsigned long) pwp->pw_uid;
	free(buf);
	if (found)
		return 0;
	if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF ||
	    rc == EPERM)
		return -1;
	errno = rc;
	return -2;
}

/*
 * parse_ids - the user (or group) list at key of g into a new array;
 * names or decimal ids, as strings or integers.  Returns 1 and the array
 * in *ids, 0 when the key is absent, -1 on errors (reported).
 */
static int
parse_ids(struct ctx *x, const config_setting_t *g, const char *key, int group,
    unsigned long **ids, size_t *nids)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	const config_setting_t *e;
	char                    name[256], num[32];
	const char             *v;
	unsigned long          *a;
	long long               n;
	int                     i, len, bad = 0;

	if (s == NULL)
		return 0;
	setting_name(s, name, sizeof(name));
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		conf_error(x, s, "%s must be a list such as [ \"%s\" ]", name,
		    group ? "saslguard" : "root");
		return -1;
	}
	len = config_setting_length(s);
	if ((a = calloc((size_t) len + 1, sizeof(*a))) == NULL) {
		conf_error(x, s, "out of memory");
		return -1;
	}
	for (i = 0; i < len; i++) {
		e = config_setting_get_elem(s, (unsigned) i);
		if (config_setting_type(e) == CONFIG_TYPE_INT ||
		    config_setting_type(e) == CONFIG_TYPE_INT64) {
			n = config_setting_get_int64(e);
			if (n < 0 || n >= (long long) UINT32_MAX) {
				conf_error(x, e, "%s: bad id %lld", name, n);
				bad = 1;
				continue;
			}
			(void) snprintf(num, sizeof(num), "%lld", n);
			v = num;
		} else if (config_setting_type(e) == CONFIG_TYPE_STRING) {
			v = config_setting_get_string(e);
		} else {
			conf_error(x, e,
			    "%s: each entry must be a name or a number", name);
			bad = 1;
			continue;
		}
		switch (resolve_id(v, group, &a[i])) {
		case 0:
			break;
		case -1:
			conf_error(x, e, "%s: unknown %s '%s'", name,
			    group ? "group" : "user", v);
			bad = 1;
			break;
		default:
			conf_error(x, e, "%s: cannot look up '%s': %s", name, v,
			    strerror(errno));
			bad = 1;
			break;
		}
	}
	if (bad) {
		free(a);
		return -1;
	}
	*ids = a;
	*nids = (size_t) len;
	return 1;
}

/* set_users - control_allow_users; root is added when missing */
static void
set_users(struct ctx *x, struct conf *c, const config_setting_t *g)
{
	unsigned long *ids;
	uid_t         *uids;
	size_t         n, i, k = 0;
	int            have_root = 0;

	if (parse_ids(x, g, "control_allow_users", 0, &ids, &n) != 1)
		return;
	for (i = 0; i < n; i++)
		if (ids[i] == 0)
			have_root = 1;
	if ((uids = calloc(n + 1, sizeof(*uids))) == NULL) {
		conf_error(x,
		    config_setting_get_member(g, "control_allow_users"),
		    "out of memory");
		free(ids);
		return;
	}
	if (!have_root)
		uids[k++] = 0;
	for (i = 0; i < n; i++)
		uids[k++] = (uid_t) ids[i];
	free(ids);
	free(c->control_uids);
	c->control_uids = uids;
	c->ncontrol_uids = k;
}

/* set_groups - control_allow_groups */
static void
set_groups(struct ctx *x, struct conf *c, const config_setting_t *g)
{
	unsigned long *ids;
	gid_t         *gids;
	size_t         n, i;

	if (parse_ids(x, g, "control_allow_groups", 1, &ids, &n) != 1)
		return;
	if ((gids = calloc(n + 1, sizeof(*gids))) == NULL) {
		conf_error(x,
		    config_setting_get_member(g, "control_allow_groups"),
		    "out of memory");
		free(ids);
		return;
	}
	for (i = 0; i < n; i++)
		gids[i] = (gid_t) ids[i];
	free(ids);
	free(c->control_gids);
	c->control_gids = gids;
	c->ncontrol_gids = n;
}

/* parse_limit - a { max = N; window = "1h"; } group into *l */
static void
parse_limit(struct ctx *x, const config_setting_t *g, const char *key,
    uint32_t maxmax, struct limit *l)
{
	const config_setting_t *s;

	s = get_group(x, g, key, "{ max = N; window = \"1h\"; }");
	if (s == NULL)
		return;
	check_keys(x, s, limit_keys);
	set_uint(x, s, "max", 0, maxmax, &l->max);
	set_duration(x, s, "window", WINDOW_MIN, WINDOW_MAX, &l->window);
}

/* parse_failed_logins - { max = N; window = "1h"; recipients = N; } */
static void
parse_failed_logins(struct ctx *x, const config_setting_t *g, struct limits *l)
{
	const config_setting_t *s;

	s = get_group(x, g, "failed_logins",
	    "{ max = N; window = \"1h\"; recipients = N; }");
	if (s == NULL)
		return;
	check_keys(x, s, failed_keys);
	set_uint(x, s, "max", 0, LIMIT_MAX, &l->failed_logins.max);
	set_duration(
	    x, s, "window", WINDOW_MIN, WINDOW_MAX, &l->failed_logins.window);
	set_uint(x, s, "recipients", 1, LIMIT_MAX,
	    &l->failed_logins_recipients);
}

/* parse_limits - the limit keys of group g (global or an exception) */
static void
parse_limits(struct ctx *x, const config_setting_t *g, struct limits *l)
{
	parse_limit(x, g, "messages", LIMIT_MAX, &l->messages);
	parse_limit(x, g, "recipients", LIMIT_MAX, &l->recipients);
	set_uint(x, g, "recipients_per_message", 0, LIMIT_MAX,
	    &l->recipients_per_message);
	/* a set holds NETSET_MAX keys: it can count at most max + 1 of them */
	parse_limit(
	    x, g, "client_addresses", NETSET_MAX - 1, &l->client_addresses);
	set_bool(x, g, "sender_mismatch", &l->sender_mismatch);
	/* distinct domains are kept in a set like client networks */
	parse_limit(
	    x, g, "recipient_domains", NETSET_MAX - 1, &l->recipient_domains);
	parse_limit(x, g, "distinct_recipients", NETSET_MAX - 1,
	    &l->distinct_recipients);
	parse_limit(x, g, "bounces", LIMIT_MAX, &l->bounces);
	set_uint(x, g, "new_network_recipients", 0, LIMIT_MAX,
	    &l->new_network_recipients);
	parse_failed_logins(x, g, l);
}

/* canon_sender - canonical "addr@dom" or "@dom" of an allowed sender */
static int
canon_sender(const char *in, const char *delims, char *out, size_t outlen)
{
	const unsigned char *p;
	const char          *at;
	size_t               len, i;

	if (in[0] == '@') {
		len = strlen(in);
		if (len < 2 || len > 256 || len >= outlen)
			return -1;
		for (p = (const unsigned char *) in + 1; *p != '\0'; p++)
			if (*p <= ' ' || *p == 0x7f || *p == '@' || *p == '<' ||
			    *p == '>')
				return -1;
		for (i = 0; i <= len; i++)
			out[i] = (in[i] >= 'A' && in[i] <= 'Z')
				     ? (char) (in[i] - 'A' + 'a')
				     : in[i];
		return 0;
	}
	if (addr_canon(in, delims, out, outlen) == -1)
		return -1;
	/* an exact address needs both parts: "a@", "@" are not one */
	if ((at = strrchr(out, '@')) == NULL || at == out || at[1] == '\0')
		return -1;
	return 0;
}

/* parse_senders - the senders list of exception g into e */
static void
parse_senders(struct ctx *x, const struct conf *c, const config_setting_t *g,
    struct conf_exception *e)
{
	const config_setting_t *s = config_setting_get_member(g, "senders");
	const config_setting_t *el;
	const char             *delims = NULL, *v;
	char                    name[256], canon[ADDR_MAX + 1];
	int                     i, len;

	if (s == NULL)
		return;
	setting_name(s, name, sizeof(name));
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		conf_error(x, s,
		    "%s must be a list such as [ \"news@example.org\", "
		    "\"@lists.example.org\" ]",
		    name);
		return;
	}
	/* stored as the milter will see the envelope sender */
	if (c->strip_tag && c->recipient_delimiter != NULL &&
	    c->recipient_delimiter[0] != '\0')
		delims = c->recipient_delimiter;
	len = config_setting_length(s);
	if ((e->senders = calloc((size_t) len + 1, sizeof(char *))) == NULL) {
		conf_error(x, s, "out of memory");
		return;
	}
	for (i = 0; i < len; i++) {
		el = config_setting_get_elem(s, (unsigned) i);
		if ((v = get_string(x, el)) == NULL)
			continue;
		if (canon_sender(v, delims, canon, sizeof(canon)) == -1) {
			conf_error(x, el,
			    "%s: '%s' is not an address or \"@domain\"", name,
			    v);
			continue;
		}
		if ((e->senders[e->nsenders] = strdup(canon)) == NULL) {
			conf_error(x, el, "out of memory");
			return;
		}
		e->nsenders++;
	}
}

/* exception_free - release what e owns */
static void
exception_free(struct conf_exception *e)
{
	size_t i;

	free(e->user);
	for (i = 0; i < e->nsenders; i++)
		free(e->senders[i]);
	free(e->senders);
}

/* xentry_cmp - order by user, then by position in the file */
static int
xentry_cmp(const void *a, const void *b)
{
	const struct xentry *xa = a, *xb = b;
	unsigned             la, lb;
	int                  r = strcmp(xa->e.user, xb->e.user);

	if (r != 0)
		return r;
	la = config_setting_source_line(xa->s);
	lb = config_setting_source_line(xb->s);
	return la < lb ? -1 : la > lb;
}

/* parse_exception - entry g of the exceptions list into *xe; -1 when unusable */
static int
parse_exception(struct ctx *x, const struct conf *c, const config_setting_t *g,
    struct xentry *xe)
{
	const config_setting_t *s;
	const char             *v;
	char                    name[256], canon[ADDR_MAX + 1];
	int                     nerr = x->nerr;

	memset(xe, 0, sizeof(*xe));
	xe->s = g;
	xe->e.limits = c->limits;
	setting_name(g, name, sizeof(name));
	check_keys(x, g, exception_keys);
	if ((s = config_setting_get_member(g, "user")) == NULL) {
		conf_error(x, g, "%s: missing user", name);
	} else if ((v = get_string(x, s)) == NULL) {
		/* reported */
	} else if (addr_canon(v, NULL, canon, sizeof(canon)) == -1 ||
		   canon[0] == '\0') {
		conf_error(
		    x, s, "%s.user: '%s' is not a valid account name", name, v);
	} else if ((xe->e.user = strdup(canon)) == NULL) {
		conf_error(x, s, "out of memory");
	}
	parse_limits(x, g, &xe->e.limits);
	parse_senders(x, c, g, &xe->e);
	if (x->nerr != nerr || xe->e.user == NULL) {
		exception_free(&xe->e);
		return -1;
	}
	return 0;
}

/* parse_exceptions - the exceptions list, sorted by user, into c */
static void
parse_exceptions(struct ctx *x, struct conf *c, const config_setting_t *root)
{
	const config_setting_t *s =
	    config_setting_get_member(root, "exceptions");
	const config_setting_t *g;
	struct xentry          *xs;
	size_t                  n = 0, i;
	int                     len, k, bad = 0;

	if (s == NULL)
		return;
	len = config_setting_length(s);
	if (!config_setting_is_list(s) &&
	    !(config_setting_is_array(s) && len == 0)) {
		conf_error(x, s,
		    "exceptions must be a list ( { user = \"...\"; ... } )");
		return;
	}
	if (len == 0)
		return;
	if ((xs = calloc((size_t) len, sizeof(*xs))) == NULL) {
		conf_error(x, s, "out of memory");
		return;
	}
	for (k = 0; k < len; k++) {
		g = config_setting_get_elem(s, (unsigned) k);
		if (!config_setting_is_group(g)) {
			conf_error(x, g,
			    "exceptions[%d] must be a group { user = \"...\"; }",
			    k);
			bad = 1;
			continue;
		}
		if (parse_exception(x, c, g, &xs[n]) == -1)
			bad = 1;
		else
			n++;
	}
	qsort(xs, n, sizeof(*xs), xentry_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(xs[i - 1].e.user, xs[i].e.user) == 0) {
			conf_error(x, xs[i].s,
			    "duplicate exception for user '%s' (first at line "
			    "%u)",
			    xs[i].e.user,
			    (unsigned) config_setting_source_line(xs[i - 1].s));
			bad = 1;
		}
	if (!bad &&
	    (c->exceptions = calloc(n, sizeof(*c->exceptions))) == NULL) {
		conf_error(x, s, "out of memory");
		bad = 1;
	}
	for (i = 0; i < n; i++) {
		if (bad)
			exception_free(&xs[i].e);
		else
			c->exceptions[i] = xs[i].e;
	}
	if (!bad)
		c->nexceptions = n;
	free(xs);
}

/* cmd_free - release what cmd owns, leaving it off */
static void
cmd_free(struct conf_cmd *cmd)
{
	size_t i;

	if (cmd->argv != NULL)
		for (i = 0; cmd->argv[i] != NULL; i++)
			free(cmd->argv[i]);
	free(cmd->argv);
	free(cmd->path);
	cmd->argv = NULL;
	cmd->path = NULL;
}

/* parse_on_flag - the on_flag group: the command run when a user is flagged */
static void
parse_on_flag(struct ctx *x, struct conf *c, const config_setting_t *root)
{
	const config_setting_t *g, *s, *el;
	const char             *v;
	char                  **argv;
	int                     i, len, nerr = x->nerr;

	g = get_group(x, root, "on_flag",
	    "{ command = [ \"/path\", \"arg\" ]; timeout = \"10s\"; }");
	if (g == NULL)
		return;
	check_keys(x, g, on_flag_keys);
	set_duration(x, g, "timeout", 1, TIMEOUT_MAX, &c->on_flag.timeout);
	if ((s = config_setting_get_member(g, "command")) == NULL) {
		conf_error(x, g, "on_flag: missing command");
		return;
	}
	len = config_setting_length(s);
	if ((!config_setting_is_array(s) && !config_setting_is_list(s)) ||
	    len == 0) {
		conf_error(x, s,
		    "on_flag.command must be a list such as [ \"/path\", "
		    "\"arg\" ]");
		return;
	}
	if ((argv = calloc((size_t) len + 1, sizeof(*argv))) == NULL) {
		conf_error(x, s, "out of memory");
		return;
	}
	c->on_flag.argv = argv;
	for (i = 0; i < len; i++) {
		el = config_setting_get_elem(s, (unsigned) i);
		if ((v = get_string(x, el)) == NULL)
			continue;
		if (i == 0 && v[0] != '/') {
			conf_error(x, el,
			    "on_flag.command[0] must be an absolute path, not "
			    "\"%s\"",
			    v);
			continue;
		}
		if ((argv[i] = strdup(v)) == NULL) {
			conf_error(x, el, "out of memory");
			break;
		}
	}
	if (x->nerr == nerr && (c->on_flag.path = strdup(argv[0])) == NULL)
		conf_error(x, s, "out of memory");
	if (x->nerr != nerr) {
		/* argv may have holes; free by count, not by the NULL end */
		for (i = 0; i < len; i++)
			free(argv[i]);
		free(argv);
		c->on_flag.argv = NULL;
		free(c->on_flag.path);
		c->on_flag.path = NULL;
	}
}

/* parse_redis - the redis group: shared counters across servers */
static void
parse_redis(struct ctx *x, struct conf *c, const config_setting_t *root)
{
	const config_setting_t *g, *s;
	char                    host[256];

	g = get_group(
	    x, root, "redis", "{ address = \"127.0.0.1:6379\"; ... }");
	if (g == NULL)
		return;
	check_keys(x, g, redis_keys);
	if ((s = config_setting_get_member(g, "address")) == NULL)
		conf_error(x, g, "redis: missing address");
	set_string(x, g, "address", STR_NONEMPTY, &c->redis.address);
	if (s != NULL && c->redis.address != NULL &&
	    !valid_redis_address(c->redis.address))
		conf_error(x, s,
		    "redis.address must be \"host:port\" or an absolute socket "
		    "path, not \"%s\"",
		    c->redis.address);
	set_string(x, g, "password", STR_EMPTYOFF, &c->redis.password);
	set_string(x, g, "prefix", 0, &c->redis.prefix);
	if ((s = config_setting_get_member(g, "prefix")) != NULL &&
	    c->redis.prefix != NULL && strlen(c->redis.prefix) > NAME_MAX_LEN)
		conf_error(
		    x, s, "redis.prefix is longer than %d bytes", NAME_MAX_LEN);
	set_duration_ms(x, g, "connect_timeout", REDIS_MS_MAX,
	    &c->redis.connect_timeout_ms);
	set_duration_ms(x, g, "timeout", REDIS_MS_MAX, &c->redis.timeout_ms);
	if ((s = config_setting_get_member(g, "server_id")) != NULL) {
		set_string(
		    x, g, "server_id", STR_NONEMPTY, &c->redis.server_id);
		if (c->redis.server_id != NULL &&
		    !valid_token(c->redis.server_id))
			conf_error(x, s,
			    "redis.server_id must be 1 to %d letters, digits, "
			    "'.', '_' or '-'",
			    NAME_MAX_LEN);
		return;
	}
	/* the default name of this server in the cluster: its host name */
	if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0') {
		conf_error(x, g, "redis: missing server_id (no host name)");
		return;
	}
	host[sizeof(host) - 1] = '\0';
	(void) replace(x, g, &c->redis.server_id, host);
}

/* parse_baseline - the baseline group: each account against its own habit */
static void
parse_baseline(struct ctx *x, struct conf *c, const config_setting_t *root)
{
	const config_setting_t *g;
	struct baseline_params *p = &c->baseline.p;

	g = get_group(x, root, "baseline",
	    "{ enabled = true; min_history = \"3d\"; ... }");
	if (g == NULL)
		return;
	check_keys(x, g, baseline_keys);
	set_bool(x, g, "enabled", &c->baseline.enabled);
	set_duration(x, g, "min_history", HOUR, 365 * DAY, &p->min_history);
	set_uint(x, g, "messages_floor", 1, LIMIT_MAX, &p->messages_floor);
	set_uint(x, g, "recipients_floor", 1, LIMIT_MAX, &p->recipients_floor);
	set_uint(x, g, "factor", 1, 1000, &p->factor);
	set_uint(x, g, "sigmas", 0, 100, &p->sigmas);
	set_duration(x, g, "span", HOUR, 365 * DAY, &p->span);
	set_duration(x, g, "keep", DAY, 365 * DAY, &c->baseline.keep);
}

/* domain_cmp - qsort/bsearch over an array of strings */
static int
domain_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* valid_domain - 1..255 bytes, no '@', no space or control character */
static int
valid_domain(const char *v)
{
	const unsigned char *p;
	size_t               len = strlen(v);

	if (len == 0 || len > 255)
		return 0;
	for (p = (const unsigned char *) v; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '@' || *p == '<' ||
		    *p == '>')
			return 0;
	return 1;
}

/* parse_local_domains - the server's own domains, lower case, sorted */
static void
parse_local_domains(struct ctx *x, struct conf *c, const config_setting_t *root)
{
	const config_setting_t *s, *el;
	const char             *v;
	char                  **d;
	size_t                  n = 0, i, k;
	int                     len, nerr = x->nerr;

	if ((s = config_setting_get_member(root, "local_domains")) == NULL)
		return;
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		conf_error(x, s,
		    "local_domains must be a list such as [ \"example.org\" ]");
		return;
	}
	len = config_setting_length(s);
	if ((d = calloc((size_t) len + 1, sizeof(*d))) == NULL) {
		conf_error(x, s, "out of memory");
		return;
	}
	for (k = 0; k < (size_t) len; k++) {
		el = config_setting_get_elem(s, (unsigned) k);
		if ((v = get_string(x, el)) == NULL)
			continue;
		if (!valid_domain(v)) {
			conf_error(
			    x, el, "local_domains: '%s' is not a domain", v);
			continue;
		}
		if ((d[n] = strdup(v)) == NULL) {
			conf_error(x, el, "out of memory");
			break;
		}
		for (i = 0; d[n][i] != '\0'; i++)
			if (d[n][i] >= 'A' && d[n][i] <= 'Z')
				d[n][i] = (char) (d[n][i] - 'A' + 'a');
		n++;
	}
	if (x->nerr != nerr) {
		for (i = 0; i < n; i++)
			free(d[i]);
		free(d);
		return;
	}
	qsort(d, n, sizeof(*d), domain_cmp);
	c->local_domains = d;
	c->nlocal_domains = n;
}

/*
 * parse_webmail - the webmail group: hosts that relay for every user and
 * the header that names the user's own address
 */
static void
parse_webmail(struct ctx *x, struct conf *c, const config_setting_t *root)
{
	const config_setting_t *g, *s, *el;
	const char             *v;
	unsigned char           bin[16];
	char                    txt[INET6_ADDRSTRLEN], **h;
	size_t                  n = 0, k;
	int                     len, af;

	if ((g = config_setting_get_member(root, "webmail")) == NULL)
		return;
	if (!config_setting_is_group(g)) {
		conf_error(x, g, "webmail must be a group such as { hosts = "
		    "[ \"127.0.0.1\" ]; header = \"X-Originating-IP\"; }");
		return;
	}
	check_keys(x, g, webmail_keys);
	if ((s = config_setting_get_member(g, "header")) == NULL)
		conf_error(x, g, "webmail: missing header");
	else if ((v = get_string(x, s)) != NULL) {
		for (k = 0; v[k] != '\0'; k++)
			if (v[k] <= ' ' || v[k] == ':' || (unsigned char) v[k] > 126)
				break;
		if (k == 0 || v[k] != '\0')
			conf_error(x, s, "webmail: '%s' is not a header name", v);
		else
			(void) replace(x, s, &c->webmail_header, v);
	}
	if ((s = config_setting_get_member(g, "hosts")) == NULL ||
	    (!config_setting_is_array(s) && !config_setting_is_list(s))) {
		conf_error(x, s != NULL ? s : g,
		    "webmail: hosts must be a list of addresses");
		return;
	}
	len = config_setting_length(s);
	if ((h = calloc((size_t) len + 1, sizeof(*h))) == NULL) {
		conf_error(x, s, "out of memory");
		return;
	}
	for (k = 0; k < (size_t) len; k++) {
		el = config_setting_get_elem(s, (unsigned) k);
		if ((v = get_string(x, el)) == NULL)
			continue;
		af = strchr(v, ':') != NULL ? AF_INET6 : AF_INET;
		if (inet_pton(af, v, bin) != 1 ||
		    inet_ntop(af, bin, txt, sizeof(txt)) == NULL) {
			conf_error(x, el, "webmail: '%s' is not an IP address",
			    v);
			continue;
		}
		if ((h[n] = strdup(txt)) == NULL) {
			conf_error(x, el, "out of memory");
			break;
		}
		n++;
	}
	c->webmail_hosts = h;
	c->nwebmail_hosts = n;
}

/* parse_addresses - the addresses group: how users and clients are keyed */
static void
parse_addresses(struct ctx *x, struct conf *c, const config_setting_t *root)
{
	const config_setting_t *g, *s;
	const char             *v;

	g = get_group(x, root, "addresses",
	    "{ strip_tag = true; recipient_delimiter = \"+\"; ... }");
	if (g == NULL)
		return;
	check_keys(x, g, address_keys);
	set_bool(x, g, "strip_tag", &c->strip_tag);
	if ((s = config_setting_get_member(g, "recipient_delimiter")) != NULL &&
	    (v = get_string(x, s)) != NULL) {
		if (strlen(v) > NAME_MAX_LEN || strpbrk(v, "@ \t\"<>") != NULL)
			conf_error(x, s,
			    "addresses.recipient_delimiter: bad delimiters "
			    "\"%s\"",
			    v);
		else
			(void) replace(x, s, &c->recipient_delimiter, v);
	}
	set_prefix(x, g, "ipv4_prefix", 32, &c->ipv4_prefix);
	set_prefix(x, g, "ipv6_prefix", 64, &c->ipv6_prefix);
}

/* parse_top - the scalar keys of the top level */
static void
parse_top(struct ctx *x, struct conf *c, const config_setting_t *root)
{
	const config_setting_t *s;
	int                     e;

	set_string(x, root, "milter_socket", STR_NONEMPTY, &c->milter_socket);
	if ((s = config_setting_get_member(root, "milter_socket")) != NULL &&
	    c->milter_socket != NULL && !valid_milter_socket(c->milter_socket))
		conf_error(x, s,
		    "milter_socket must be \"unix:/absolute/path\" or "
		    "\"inet:port@host\", not \"%s\"",
		    c->milter_socket);
	set_mode(x, root, "milter_socket_mode", &c->milter_socket_mode);
	set_string(x, root, "milter_socket_group", STR_EMPTYOFF,
	    &c->milter_socket_group);
	set_duration(
	    x, root, "milter_timeout", 1, TIMEOUT_MAX, &c->milter_timeout);

	e = (int) c->mode;
	set_enum(x, root, "mode", mode_names, "\"enforce\" or \"monitor\"", &e);
	c->mode = (enum conf_mode) e;
	e = (int) c->flagged_action;
	set_enum(x, root, "flagged_action", flagged_names,
	    "\"hold\", \"tempfail\" or \"disconnect\"", &e);
	c->flagged_action = (enum flagged_action) e;
	e = (int) c->fail_action;
	set_enum(x, root, "fail_action", fail_names,
	    "\"accept\" or \"tempfail\"", &e);
	c->fail_action = (enum fail_action) e;

	set_string(x, root, "state_db", STR_ABSPATH, &c->state_db);
	set_string(x, root, "journal", STR_ABSPATH | STR_EMPTYOFF,
	    &c->journal);
	set_duration(x, root, "retention", HOUR, 365 * DAY, &c->retention);

	set_string(x, root, "control_socket", STR_ABSPATH | STR_EMPTYOFF,
	    &c->control_socket);
	set_mode(x, root, "control_socket_mode", &c->control_socket_mode);
	set_users(x, c, root);
	set_groups(x, c, root);

	set_string(x, root, "user", STR_EMPTYOFF, &c->user);
	set_string(x, root, "postfix_config_directory",
	    STR_ABSPATH | STR_EMPTYOFF, &c->postfix_config_directory);
	set_string(x, root, "postqueue", STR_ABSPATH, &c->postqueue_path);
	set_string(x, root, "postsuper", STR_ABSPATH, &c->postsuper_path);
	set_bool(x, root, "hold_queued_on_flag", &c->hold_queued_on_flag);
	set_bool(x, root, "queue_match_sender", &c->queue_match_sender);
	set_duration(x, root, "release_requeue_age", HOUR, 365 * DAY,
	    &c->release_requeue_age);
	set_string(x, root, "auth_log", STR_ABSPATH | STR_EMPTYOFF,
	    &c->auth_log);

	e = -1;
	set_enum(x, root, "syslog_facility", facility_names,
	    "\"mail\", \"daemon\", \"user\" or \"local0\" to \"local7\"", &e);
	if (e >= 0)
		(void) replace(x,
		    config_setting_get_member(root, "syslog_facility"),
		    &c->syslog_facility, facility_names[e]);
}

/* conf_apply - every key of the file over the defaults in c */
static void
conf_apply(struct ctx *x, struct conf *c, const config_setting_t *root)
{
	const config_setting_t *g;

	check_keys(x, root, top_keys);
	parse_top(x, c, root);
	parse_addresses(x, c, root);
	g = get_group(x, root, "limits",
	    "{ messages = { max = 100; window = \"1h\"; }; ... }");
	if (g != NULL) {
		check_keys(x, g, limits_keys);
		parse_limits(x, g, &c->limits);
	}
	/* after limits and addresses: entries inherit from them */
	parse_exceptions(x, c, root);
	parse_on_flag(x, c, root);
	parse_redis(x, c, root);
	parse_baseline(x, c, root);
	parse_local_domains(x, c, root);
	parse_webmail(x, c, root);
}

/* conf_load - read and validate path */
int
conf_load(const char *path, struct conf **out, char *err, size_t errlen)
{
	struct ctx   x = { path, err, errlen, 0, 0 };
	struct conf *c;
	config_t     cfg;
	FILE        *fp;
	char        *dir, *slash;

	*out = NULL;
	if (err == NULL)
		x.errlen = 0;
	if (x.errlen > 0)
		err[0] = '\0';
	/* libconfig does not keep errno: open once to say why not */
	if ((fp = fopen(path, "r")) == NULL) {
		error_at(&x, path, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	(void) fclose(fp);
	if ((dir = strdup(path)) == NULL) {
		error_at(&x, path, 0, "out of memory");
		return -1;
	}
	/* @include "x.conf" is relative to the directory of the file */
	if ((slash = strrchr(dir, '/')) != NULL)
		slash[slash == dir ? 1 : 0] = '\0';
	else
		dir[0] = '\0';

	config_init(&cfg);
	config_set_include_dir(&cfg, dir[0] != '\0' ? dir : ".");
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		const char *file = config_error_file(&cfg);

		error_at(&x, file != NULL ? file : path,
		    config_error_line(&cfg) > 0
			? (unsigned) config_error_line(&cfg)
			: 0,
		    "%s", config_error_text(&cfg));
		config_destroy(&cfg);
		free(dir);
		return -1;
	}
	if ((c = conf_default()) == NULL || (c->path = strdup(path)) == NULL)
		error_at(&x, path, 0, "out of memory");
	else
		conf_apply(&x, c, config_root_setting(&cfg));
	config_destroy(&cfg);
	free(dir);
	if (x.nerr > 0) {
		conf_unref(c);
		return -1;
	}
	*out = c;
	return 0;
}

/* conf_default - a conf with every default, no file (refs = 1); NULL on ENOMEM */
struct conf *
conf_default(void)
{
	struct conf  *c;
	unsigned long gid;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->refs = 1;
	c->milter_socket_mode = 0660;
	c->milter_timeout = 30;
	c->mode = MODE_ENFORCE;
	c->flagged_action = FLAGGED_HOLD;
	c->fail_action = FAIL_ACCEPT;
	c->retention = 7 * DAY;
	c->control_socket_mode = 0660;
	c->hold_queued_on_flag = 1;
	c->queue_match_sender = 1;
	c->release_requeue_age = DAY;
	c->strip_tag = 1;
	c->ipv4_prefix = 24;
	c->ipv6_prefix = 64;
	c->limits.messages.max = 100;
	c->limits.messages.window = HOUR;
	c->limits.recipients.max = 300;
	c->limits.recipients.window = HOUR;
	c->limits.recipients_per_message = 50;
	c->limits.client_addresses.max = 5;
	c->limits.client_addresses.window = HOUR;
	c->limits.sender_mismatch = 1;
	c->limits.recipient_domains.max = 0;
	c->limits.recipient_domains.window = HOUR;
	c->limits.distinct_recipients.max = 0;
	c->limits.distinct_recipients.window = HOUR;
	c->limits.bounces.max = 30;
	c->limits.bounces.window = HOUR;
	c->limits.new_network_recipients = 20;
	c->limits.failed_logins.max = 10;
	c->limits.failed_logins.window = HOUR;
	c->limits.failed_logins_recipients = 20;
	c->baseline.enabled = 1;
	c->baseline.keep = 30 * DAY;
	c->baseline.p.min_history = 3 * DAY;
	c->baseline.p.messages_floor = 20;
	c->baseline.p.recipients_floor = 100;
	c->baseline.p.factor = 10;
	c->baseline.p.sigmas = 6;
	c->baseline.p.span = WEEK;
	c->on_flag.timeout = 10;
	c->redis.connect_timeout_ms = 200;
	c->redis.timeout_ms = 50;

	if ((c->milter_socket = strdup(DEF_MILTER_SOCKET)) == NULL ||
	    (c->milter_socket_group = strdup(DEF_SOCKET_GROUP)) == NULL ||
	    (c->state_db = strdup(DEF_STATE_DB)) == NULL ||
	    (c->journal = strdup(DEF_JOURNAL)) == NULL ||
	    (c->control_socket = strdup(DEF_CONTROL_SOCKET)) == NULL ||
	    (c->postqueue_path = strdup(PATH_POSTQUEUE)) == NULL ||
	    (c->postsuper_path = strdup(PATH_POSTSUPER)) == NULL ||
	    (c->recipient_delimiter = strdup(DEF_DELIMITER)) == NULL ||
	    (c->redis.prefix = strdup(DEF_REDIS_PREFIX)) == NULL ||
	    (c->syslog_facility = strdup(DEF_FACILITY)) == NULL ||
	    (c->control_uids = calloc(1, sizeof(uid_t))) == NULL ||
	    (c->control_gids = calloc(1, sizeof(gid_t))) == NULL)
		goto fail;
	c->control_uids[0] = 0;
	c->ncontrol_uids = 1;
	/* no such group here: only root and the listed users */
	if (resolve_id(DEF_CONTROL_GROUP, 1, &gid) == 0) {
		c->control_gids[0] = (gid_t) gid;
		c->ncontrol_gids = 1;
	}
	return c;
fail:
	conf_unref(c);
	return NULL;
}

/* conf_ref - pin a snapshot; returns c */
struct conf *
conf_ref(struct conf *c)
{
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
	return c;
}

/* conf_unref - drop a pin; frees on the last one; accepts NULL */
void
conf_unref(struct conf *c)
{
	size_t i;

	if (c == NULL || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	free(c->path);
	free(c->milter_socket);
	free(c->milter_socket_group);
	free(c->state_db);
	free(c->journal);
	free(c->control_socket);
	free(c->control_uids);
	free(c->control_gids);
	free(c->user);
	free(c->postfix_config_directory);
	free(c->postqueue_path);
	free(c->postsuper_path);
	free(c->recipient_delimiter);
	for (i = 0; i < c->nexceptions; i++)
		exception_free(&c->exceptions[i]);
	free(c->exceptions);
	cmd_free(&c->on_flag);
	free(c->redis.address);
	free(c->redis.password);
	free(c->redis.prefix);
	free(c->redis.server_id);
	free(c->syslog_facility);
	for (i = 0; i < c->nlocal_domains; i++)
		free(c->local_domains[i]);
	free(c->local_domains);
	for (i = 0; i < c->nwebmail_hosts; i++)
		free(c->webmail_hosts[i]);
	free(c->webmail_hosts);
	free(c->webmail_header);
	free(c->auth_log);
	free(c);
}

/* exception_cmp - bsearch: user key against an entry */
static int
exception_cmp(const void *key, const void *elem)
{
	const struct conf_exception *e = elem;

	return strcmp(key, e->user);
}

/* conf_account - the limits and allowed senders for canonical user */
const struct limits *
conf_account(const struct conf *c, const char *user, char *const **senders,
    size_t *nsenders)
{
	const struct conf_exception *e = NULL;

	if (user != NULL && c->nexceptions > 0)
		e = bsearch(user, c->exceptions, c->nexceptions,
		    sizeof(*c->exceptions), exception_cmp);
	if (senders != NULL)
		*senders = e != NULL ? e->senders : NULL;
	if (nsenders != NULL)
		*nsenders = e != NULL ? e->nsenders : 0;
	return e != NULL ? &e->limits : &c->limits;
}

/* limits_max_window - the longest window of l, enabled limits or not */
static uint32_t
limits_max_window(const struct limits *l)
{
	uint32_t w = l->messages.window;

	if (l->recipients.window > w)
		w = l->recipients.window;
	if (l->client_addresses.window > w)
		w = l->client_addresses.window;
	if (l->recipient_domains.window > w)
		w = l->recipient_domains.window;
	if (l->distinct_recipients.window > w)
		w = l->distinct_recipients.window;
	if (l->bounces.window > w)
		w = l->bounces.window;
	if (l->failed_logins.window > w)
		w = l->failed_logins.window;
	return w;
}

/* conf_webmail_host - 1 when the printable address is a webmail host */
int
conf_webmail_host(const struct conf *c, const char *addr)
{
	size_t i;

	for (i = 0; i < c->nwebmail_hosts; i++)
		if (strcmp(c->webmail_hosts[i], addr) == 0)
			return 1;
	return 0;
}

/* conf_local_domain - 1 when lower-case domain is one of local_domains */
int
conf_local_domain(const struct conf *c, const char *domain)
{
	if (domain == NULL || c->nlocal_domains == 0)
		return 0;
	return bsearch(&domain, c->local_domains, c->nlocal_domains,
		   sizeof(*c->local_domains), domain_cmp) != NULL;
}

/* conf_max_window - the longest window of any limit, in seconds */
uint32_t
conf_max_window(const struct conf *c)
{
	uint32_t w = limits_max_window(&c->limits), ew;
	size_t   i;

	for (i = 0; i < c->nexceptions; i++)
		if ((ew = limits_max_window(&c->exceptions[i].limits)) > w)
			w = ew;
	return w;
}
