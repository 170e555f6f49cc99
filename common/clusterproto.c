/*
 * clusterproto.c - what the servers of a cluster say to each other in Redis
 *
 * The end-of-message script is common/window.c and the counting half of
 * common/accounts.c written again in Lua, so that the check and the commit
 * of one message happen inside Redis in one step: no other server's
 * message can slip between them, and N servers hold an account to one
 * limit.  The decision itself is not trusted to the script: it returns
 * what it saw, and clusterproto_eom_decide() asks policy_eom() with those
 * numbers, so the reason, count, max and window are the local ones.  The
 * script only needs to know whether to count the message, which is
 * exactly "no limit broken, or monitor mode", as in accounts_eom().
 *
 * The script reads Redis's clock (TIME), so every server counts on one
 * clock.  Like window.c it never goes back: a slot newer than now (a
 * clock set back) is treated as now.
 *
 * Thread safety: pure functions.
 * Tests: tests/test_clusterproto.c
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterproto.h"
#include "escape.h"

#define SLOTS 8 /* WINDOW_SLOTS of window.h */

/*
 * KEYS: 1 flags hash, 2 message slots, 3 recipient slots, 4 networks.
 * ARGV: 1 user, 2 messages max, 3 messages window, 4 recipients max,
 * 5 recipients window, 6 networks max, 7 networks window, 8 recipients of
 * this message, 9 network key ("" = unknown), 10 monitor (0/1), 11 limit
 * already broken by the message alone ("" = none), 12 its count, 13 its
 * max, 14 ttl of the user's keys, 15 channel, 16 tail of a flag record,
 * 17 user escaped.
 * Returns { flagged, messages, recipients, networks, committed, latched,
 * now }.
 */
const char clusterproto_eom_script[] =
    "local now = tonumber(redis.call('TIME')[1])\n"
    "local ttl = tonumber(ARGV[14])\n"
    "local function load(key, len)\n"
    "  if len < 1 then len = 1 end\n"
    "  local w = math.floor((len + 6) / 7)\n"
    "  local s = { key = key, len = len, w = w, head = math.floor(now / w),\n"
    "    n = {}, old = {}, reset = false }\n"
    "  local raw = redis.call('HGETALL', key)\n"
    "  local ow, oh = nil, nil\n"
    "  for i = 1, #raw, 2 do\n"
    "    local f, v = raw[i], tonumber(raw[i + 1])\n"
    "    if f == 'w' then ow = v elseif f == 'h' then oh = v\n"
    "    else s.n[tonumber(f)] = v end\n"
    "  end\n"
    "  if ow == nil then s.n = {} return s end\n"
    "  if ow ~= w then\n"
    "    local cur = math.floor(now / ow)\n"
    "    if oh ~= nil and oh > cur then cur = oh end\n"
    "    local sum = 0\n"
    "    for k, v in pairs(s.n) do\n"
    "      if k > cur - 8 then sum = sum + v end\n"
    "      s.old[#s.old + 1] = k\n"
    "    end\n"
    "    s.n = {}\n"
    "    s.n[s.head] = sum\n"
    "    s.reset = true\n"
    "    return s\n"
    "  end\n"
    "  if oh ~= nil and oh > s.head then s.head = oh end\n"
    "  for k, v in pairs(s.n) do\n"
    "    if k <= s.head - 8 then s.old[#s.old + 1] = k s.n[k] = nil end\n"
    "  end\n"
    "  return s\n"
    "end\n"
    "local function total(s)\n"
    "  local first = 0\n"
    "  if now >= s.len then first = math.floor((now - s.len + 1) / s.w) end\n"
    "  if s.head - first >= 8 then first = s.head - 7 end\n"
    "  local sum = 0\n"
    "  for k, v in pairs(s.n) do\n"
    "    if k >= first and k <= s.head then sum = sum + v end\n"
    "  end\n"
    "  return sum\n"
    "end\n"
    "local function save(s, add)\n"
    "  if s.reset then redis.call('DEL', s.key) s.old = {} end\n"
    "  if #s.old > 0 then redis.call('HDEL', s.key, unpack(s.old)) end\n"
    "  redis.call('HSET', s.key, 'w', s.w, 'h', s.head,\n"
    "    tostring(s.head), (s.n[s.head] or 0) + add)\n"
    "  redis.call('EXPIRE', s.key, ttl)\n"
    "end\n"
    "local function networks(key, net, win)\n"
    "  local raw = redis.call('HGETALL', key)\n"
    "  local n, found, fseen, dead, oldest, oseen = 0, false, 0, {}, nil, nil\n"
    "  for i = 1, #raw, 2 do\n"
    "    local seen = tonumber(raw[i + 1])\n"
    "    if seen > now or now - seen < win then\n"
    "      n = n + 1\n"
    "      if raw[i] == net then found = true fseen = seen end\n"
    "      if oseen == nil or seen < oseen then oldest, oseen = raw[i], seen end\n"
    "    else dead[#dead + 1] = raw[i] end\n"
    "  end\n"
    "  local count = n\n"
    "  if net ~= '' and not found then count = count + 1 end\n"
    "  if net ~= '' then\n"
    "    if #dead > 0 then redis.call('HDEL', key, unpack(dead)) end\n"
    "    if not found then\n"
    "      if n >= 64 then redis.call('HDEL', key, oldest) end\n"
    "      redis.call('HSET', key, net, now)\n"
    "    elseif now > fseen then redis.call('HSET', key, net, now) end\n"
    "    redis.call('EXPIRE', key, ttl)\n"
    "  end\n"
    "  return count\n"
    "end\n"
    "local flagged = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1\n"
    "local mmax, rmax, nmax = tonumber(ARGV[2]), tonumber(ARGV[4]),\n"
    "  tonumber(ARGV[6])\n"
    "local nrcpt, monitor = tonumber(ARGV[8]), ARGV[10] == '1'\n"
    "local ms, rs = load(KEYS[2], tonumber(ARGV[3])),\n"
    "  load(KEYS[3], tonumber(ARGV[5]))\n"
    "local mu, ru = total(ms), total(rs)\n"
    "local nu = networks(KEYS[4], ARGV[9], tonumber(ARGV[7]))\n"
    "local limit, count, max, window = nil, 0, 0, 0\n"
    "if flagged then limit = 'flagged'\n"
    "elseif ARGV[11] ~= '' then\n"
    "  limit, count, max = ARGV[11], tonumber(ARGV[12]), tonumber(ARGV[13])\n"
    "elseif mmax > 0 and mu + 1 > mmax then\n"
    "  limit, count, max, window = 'messages', mu + 1, mmax, tonumber(ARGV[3])\n"
    "elseif rmax > 0 and ru + nrcpt > rmax then\n"
    "  limit, count, max, window = 'recipients', ru + nrcpt, rmax,\n"
    "    tonumber(ARGV[5])\n"
    "elseif nmax > 0 and nu > nmax then\n"
    "  limit, count, max, window = 'client_addresses', nu, nmax,\n"
    "    tonumber(ARGV[7])\n"
    "end\n"
    "local committed, latched = 0, 0\n"
    "if limit == nil or monitor then\n"
    "  save(ms, 1)\n"
    "  save(rs, nrcpt)\n"
    "  committed = 1\n"
    "else\n"
    "  if ms.reset then save(ms, 0) end\n"
    "  if rs.reset then save(rs, 0) end\n"
    "end\n"
    "if limit ~= nil and limit ~= 'flagged' and not monitor then\n"
    "  local rec = string.format('at=%d limit=%s count=%d max=%d window=%d ',\n"
    "    now, limit, count, max, window) .. ARGV[16]\n"
    "  redis.call('HSET', KEYS[1], ARGV[1], rec)\n"
    "  redis.call('PUBLISH', ARGV[15], 'type=flag user=' .. ARGV[17] .. ' ' .. rec)\n"
    "  latched = 1\n"
    "end\n"
    "return { flagged and 1 or 0, mu, ru, nu, committed, latched, now }\n";

/* KEYS: 1 flags hash.  ARGV: 1 user, 2 record, 3 channel, 4 message. */
const char clusterproto_flag_script[] =
    "if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then\n"
    "  redis.call('PUBLISH', ARGV[3], ARGV[4])\n"
    "  return 1\n"
    "end\n"
    "return 0\n";

/*
 * KEYS: 1 flags hash, 2 unflags.  ARGV: 1 user, 2 time of the unflag,
 * 3 channel, 4 message, 5 seconds unflags are kept.  A flag raised after
 * the unflag (elsewhere, while this server was away) stays.
 */
const char clusterproto_unflag_script[] =
    "local at = tonumber(ARGV[2])\n"
    "local rec = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "if rec then\n"
    "  local fat = tonumber(string.match(rec, '^at=(%d+)'))\n"
    "  if fat ~= nil and fat > at then return 0 end\n"
    "  redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "end\n"
    "redis.call('ZADD', KEYS[2], 'GT', at, ARGV[1])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', at - tonumber(ARGV[5]))\n"
    "redis.call('PUBLISH', ARGV[3], ARGV[4])\n"
    "return 1\n";

/* clusterproto_key - prefix + part (+ "{user}") into buf */
int
clusterproto_key(char *buf, size_t len, const char *prefix, const char *part,
    const char *user)
{
	int n;

	if (user != NULL)
		n = snprintf(buf, len, "%s%s{%s}", prefix, part, user);
	else
		n = snprintf(buf, len, "%s%s", prefix, part);
	return n < 0 || (size_t) n >= len ? -1 : 0;
}

/* clusterproto_keys - the four keys of user */
int
clusterproto_keys(struct cluster_keys *k, const char *prefix, const char *user)
{
	if (clusterproto_key(
		k->flags, sizeof(k->flags), prefix, "flags", NULL) == -1 ||
	    clusterproto_key(k->msgs, sizeof(k->msgs), prefix, "m:", user) ==
		-1 ||
	    clusterproto_key(k->rcpts, sizeof(k->rcpts), prefix, "r:", user) ==
		-1 ||
	    clusterproto_key(k->nets, sizeof(k->nets), prefix, "n:", user) ==
		-1)
		return -1;
	return 0;
}

/* width - seconds per slot of a window of length seconds (window.c) */
static uint32_t
width(uint32_t length)
{
	uint64_t l = length == 0 ? 1 : length;

	return (uint32_t) ((l + SLOTS - 2) / (SLOTS - 1));
}

/* clusterproto_ttl - seconds a user's keys must live */
uint32_t
clusterproto_ttl(const struct limits *l)
{
	uint64_t t, m;

	t = (uint64_t) l->messages.window + width(l->messages.window);
	m = (uint64_t) l->recipients.window + width(l->recipients.window);
	if (m > t)
		t = m;
	if (l->client_addresses.window > t)
		t = l->client_addresses.window;
	t += 1;
	return t > UINT32_MAX ? UINT32_MAX : (uint32_t) t;
}

/* add_pair - append " key=escaped(value)" (no space when at the start) */
static int
add_pair(char *buf, size_t len, size_t *pos, const char *key, const char *value)
{
	size_t need;
	int    n;

	n = snprintf(buf + *pos, len - *pos, "%s%s=", *pos > 0 ? " " : "", key);
	if (n < 0 || (size_t) n >= len - *pos)
		return -1;
	*pos += (size_t) n;
	need = escape_value(buf + *pos, len - *pos, value);
	if (need >= len - *pos)
		return -1;
	*pos += need;
	return 0;
}

/* clusterproto_tail - the caller's part of a flag record */
int
clusterproto_tail(char *buf, size_t len, const char *source, const char *server,
    const char *client, const char *queue_id, const char *reason)
{
	size_t pos = 0;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	if (add_pair(buf, len, &pos, "source", source) == -1 ||
	    add_pair(buf, len, &pos, "server", server) == -1 ||
	    add_pair(buf, len, &pos, "client", client) == -1 ||
	    add_pair(buf, len, &pos, "queue_id", queue_id) == -1 ||
	    add_pair(buf, len, &pos, "reason", reason) == -1)
		return -1;
	return 0;
}

/* set_arg - argument i of a is s */
static void
set_arg(struct cluster_eom_args *a, int i, const char *s)
{
	a->argv[i] = s;
	a->argvlen[i] = strlen(s);
}

/* num - a number into slot i of a->num; returns the text */
static const char *
num(struct cluster_eom_args *a, int i, unsigned long long v)
{
	snprintf(a->num[i], sizeof(a->num[i]), "%llu", v);
	return a->num[i];
}

/* clusterproto_eom_args - the keys and ARGV of the end-of-message script */
int
clusterproto_eom_args(struct cluster_eom_args *a, const char *prefix,
    const char *user, const struct limits *l, enum conf_mode mode,
    const struct policy_facts *f, const uint64_t *net, const char *channel,
    const char *tail, char *err, size_t len)
{
	const char *pre = "";
	uint32_t    pre_count = 0, pre_max = 0;
	int         i = 2;

	memset(a, 0, sizeof(*a));
	if (clusterproto_keys(&a->keys, prefix, user) == -1) {
		snprintf(err, len, "user name too long for a key");
		return -1;
	}
	if (snprintf(a->channel, sizeof(a->channel), "%s", channel) >=
		(int) sizeof(a->channel) ||
	    snprintf(a->tail, sizeof(a->tail), "%s", tail) >=
		(int) sizeof(a->tail) ||
	    escape_value(a->euser, sizeof(a->euser), user) >=
		sizeof(a->euser)) {
		snprintf(err, len, "script arguments too long");
		return -1;
	}
	/* the checks of policy_eom() that need no counter, in its order */
	if (l->recipients_per_message != 0 &&
	    f->nrcpt > l->recipients_per_message) {
		pre = policy_limit_name(LIMIT_RCPT_PER_MESSAGE);
		pre_count = f->nrcpt;
		pre_max = l->recipients_per_message;
	} else if (l->sender_mismatch && !f->sender_belongs) {
		pre = policy_limit_name(LIMIT_SENDER_MISMATCH);
		pre_count = 1;
	}
	snprintf(a->pre_limit, sizeof(a->pre_limit), "%s", pre);
	snprintf(a->pre_count, sizeof(a->pre_count), "%u", pre_count);
	snprintf(a->pre_max, sizeof(a->pre_max), "%u", pre_max);
	snprintf(a->ttl, sizeof(a->ttl), "%u", clusterproto_ttl(l));
	if (net != NULL)
		snprintf(a->net, sizeof(a->net), "%016llx",
		    (unsigned long long) *net);

	set_arg(a, i++, num(a, 0, CLUSTER_EOM_KEYS));
	set_arg(a, i++, a->keys.flags);
	set_arg(a, i++, a->keys.msgs);
	set_arg(a, i++, a->keys.rcpts);
	set_arg(a, i++, a->keys.nets);
	set_arg(a, i++, user);
	set_arg(a, i++, num(a, 1, l->messages.max));
	set_arg(a, i++, num(a, 2, l->messages.window));
	set_arg(a, i++, num(a, 3, l->recipients.max));
	set_arg(a, i++, num(a, 4, l->recipients.window));
	set_arg(a, i++, num(a, 5, l->client_addresses.max));
	set_arg(a, i++, num(a, 6, l->client_addresses.window));
	set_arg(a, i++, num(a, 7, f->nrcpt));
	set_arg(a, i++, a->net);
	set_arg(a, i++, mode == MODE_MONITOR ? "1" : "0");
	set_arg(a, i++, a->pre_limit);
	set_arg(a, i++, a->pre_count);
	set_arg(a, i++, a->pre_max);
	set_arg(a, i++, a->ttl);
	set_arg(a, i++, a->channel);
	set_arg(a, i++, a->tail);
	set_arg(a, i++, a->euser);
	a->argc = i;
	return 0;
}

/* clamp32 - a reply integer as a count */
static uint32_t
clamp32(long long v)
{
	if (v < 0)
		return 0;
	if ((unsigned long long) v > UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t) v;
}

/* clusterproto_eom_decide - the script's reply into a decision */
int
clusterproto_eom_decide(const long long *v, size_t n, const struct limits *l,
    enum conf_mode mode, const struct policy_facts *f, struct policy_usage *u,
    struct cluster_eom_result *r, struct policy_decision *d, char *err,
    size_t len)
{
	size_t i;

	if (n != CLUSTER_EOM_REPLY) {
		snprintf(err, len, "script reply has %zu values, not %d", n,
		    CLUSTER_EOM_REPLY);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (v[i] < 0) {
			snprintf(err, len, "script reply value %zu is negative",
			    i + 1);
			return -1;
		}
	if (v[0] > 1 || v[4] > 1 || v[5] > 1) {
		snprintf(
		    err, len, "script reply: a yes/no value is not 0 or 1");
		return -1;
	}
	memset(u, 0, sizeof(*u));
	u->flagged = (int) v[0];
	u->messages = clamp32(v[1]);
	u->recipients = clamp32(v[2]);
	u->networks = clamp32(v[3]);
	r->committed = (int) v[4];
	r->latched = (int) v[5];
	r->now = (time_t) v[6];
	policy_eom(l, mode, u, f, d);
	r->agree =
	    r->committed == (d->action == ACTION_PASS) && r->latched == d->flag;
	return 0;
}

/* clusterproto_flag_format - a flag record */
int
clusterproto_flag_format(char *buf, size_t len, const struct cluster_flag *f)
{
	size_t pos;
	int    n;

	n = snprintf(buf, len, "at=%lld limit=%s count=%u max=%u window=%u ",
	    (long long) f->at, policy_limit_name(f->limit), f->count, f->max,
	    f->window);
	if (n < 0 || (size_t) n >= len)
		return -1;
	pos = (size_t) n;
	if (clusterproto_tail(buf + pos, len - pos, f->source, f->server,
		f->client, f->queue_id, f->reason) == -1)
		return -1;
	return (int) strlen(buf);
}

/*
 * clusterproto_kv_get - the unescaped value of key in a record
 *
 * Keys are matched at the start of a space-separated token; the value is
 * the rest of the token.
 */
int
clusterproto_kv_get(const char *s, const char *key, char *out, size_t len)
{
	const char *p = s, *end;
	char        raw[CLUSTER_RECORD_MAX];
	size_t      klen = strlen(key), vlen;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		end = strchr(p, ' ');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t) (end - p) > klen && strncmp(p, key, klen) == 0 &&
		    p[klen] == '=') {
			vlen = (size_t) (end - p) - klen - 1;
			if (vlen >= sizeof(raw))
				return -1;
			memcpy(raw, p + klen + 1, vlen);
			raw[vlen] = '\0';
			return unescape_value(out, len, raw) == -1 ? -1 : 1;
		}
		p = end;
	}
	if (len > 0)
		out[0] = '\0';
	return 0;
}

/* get_u64 - a decimal field; 1, 0 when absent, -1 when malformed */
static int
get_u64(const char *s, const char *key, unsigned long long max,
    unsigned long long *v)
{
	char buf[32], *end;
	int  r;

	*v = 0;
	if ((r = clusterproto_kv_get(s, key, buf, sizeof(buf))) != 1)
		return r;
	if (buf[0] < '0' || buf[0] > '9')
		return -1;
	*v = strtoull(buf, &end, 10);
	return *end != '\0' || *v > max ? -1 : 1;
}

/* get_str - a string field into out; absent is ""; 0 or -1 */
static int
get_str(const char *s, const char *key, char *out, size_t len)
{
	return clusterproto_kv_get(s, key, out, len) == -1 ? -1 : 0;
}

/* clusterproto_flag_parse - a flag record into f */
int
clusterproto_flag_parse(
    const char *s, struct cluster_flag *f, char *err, size_t len)
{
	unsigned long long at, count, max, window;
	char               limit[64];

	memset(f, 0, sizeof(*f));
	if (get_u64(s, "at", INT64_MAX, &at) != 1 ||
	    clusterproto_kv_get(s, "limit", limit, sizeof(limit)) != 1) {
		snprintf(err, len, "flag record without at or limit");
		return -1;
	}
	if (get_u64(s, "count", UINT32_MAX, &count) == -1 ||
	    get_u64(s, "max", UINT32_MAX, &max) == -1 ||
	    get_u64(s, "window", UINT32_MAX, &window) == -1 ||
	    get_str(s, "source", f->source, sizeof(f->source)) == -1 ||
	    get_str(s, "server", f->server, sizeof(f->server)) == -1 ||
	    get_str(s, "client", f->client, sizeof(f->client)) == -1 ||
	    get_str(s, "queue_id", f->queue_id, sizeof(f->queue_id)) == -1 ||
	    get_str(s, "reason", f->reason, sizeof(f->reason)) == -1) {
		snprintf(err, len, "malformed flag record");
		return -1;
	}
	f->at = (time_t) at;
	f->limit = policy_limit_parse(limit);
	if (f->limit == LIMIT_NONE)
		f->limit = LIMIT_OPERATOR;
	f->count = (uint32_t) count;
	f->max = (uint32_t) max;
	f->window = (uint32_t) window;
	return 0;
}

/* add_num - append " key=N" */
static int
add_num(char *buf, size_t len, size_t *pos, const char *key, unsigned long v)
{
	int n;

	n = snprintf(
	    buf + *pos, len - *pos, "%s%s=%lu", *pos > 0 ? " " : "", key, v);
	if (n < 0 || (size_t) n >= len - *pos)
		return -1;
	*pos += (size_t) n;
	return 0;
}

/* clusterproto_result_format - a queue request's reply */
int
clusterproto_result_format(
    char *buf, size_t len, const struct cluster_result *r)
{
	size_t pos = 0;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	if (add_pair(buf, len, &pos, "server", r->server) == -1 ||
	    add_num(buf, len, &pos, "done", r->done) == -1 ||
	    add_num(buf, len, &pos, "requeued", r->requeued) == -1 ||
	    add_num(buf, len, &pos, "hold", r->hold) == -1 ||
	    add_num(buf, len, &pos, "incoming", r->incoming) == -1 ||
	    add_num(buf, len, &pos, "active", r->active) == -1 ||
	    add_num(buf, len, &pos, "deferred", r->deferred) == -1 ||
	    add_num(buf, len, &pos, "other", r->other) == -1 ||
	    add_pair(buf, len, &pos, "error", r->error) == -1)
		return -1;
	return (int) pos;
}

/* the counters of a reply, in the order of struct cluster_result */
static const char *const result_keys[7] = { "done", "requeued", "hold",
	"incoming", "active", "deferred", "other" };

/* clusterproto_result_parse - a queue request's reply into r */
int
clusterproto_result_parse(
    const char *s, struct cluster_result *r, char *err, size_t len)
{
	unsigned long long v[7];
	size_t             i;

	memset(r, 0, sizeof(*r));
	if (clusterproto_kv_get(s, "server", r->server, sizeof(r->server)) !=
		1 ||
	    r->server[0] == '\0') {
		snprintf(err, len, "reply without server");
		return -1;
	}
	for (i = 0; i < 7; i++)
		if (get_u64(s, result_keys[i], ULONG_MAX, &v[i]) == -1) {
			snprintf(
			    err, len, "reply: malformed %s", result_keys[i]);
			return -1;
		}
	if (get_str(s, "error", r->error, sizeof(r->error)) == -1) {
		snprintf(err, len, "reply: malformed error");
		return -1;
	}
	r->done = (unsigned long) v[0];
	r->requeued = (unsigned long) v[1];
	r->hold = (unsigned long) v[2];
	r->incoming = (unsigned long) v[3];
	r->active = (unsigned long) v[4];
	r->deferred = (unsigned long) v[5];
	r->other = (unsigned long) v[6];
	return 0;
}

/* clusterproto_op_name - "delete" or "release" */
const char *
clusterproto_op_name(enum cluster_queue_op op)
{
	return op == CLUSTER_OP_RELEASE ? "release" : "delete";
}

/* clusterproto_op_parse - the inverse */
int
clusterproto_op_parse(const char *name, enum cluster_queue_op *op)
{
	if (strcmp(name, "delete") == 0)
		*op = CLUSTER_OP_DELETE;
	else if (strcmp(name, "release") == 0)
		*op = CLUSTER_OP_RELEASE;
	else
		return -1;
	return 0;
}
