/*
 * daemon.c - the daemon's shared state
 *
 * Thread safety: see daemon.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"
#include "daemon.h"
#include "escape.h"
#include "log.h"
#include "policy.h"

struct daemon *sg;

static const char *const counter_names[CNT_MAX_] = {
	[CNT_CONNECTIONS] = "connections",
	[CNT_TRANSACTIONS] = "transactions",
	[CNT_AUTHENTICATED] = "authenticated",
	[CNT_PASSED] = "passed",
	[CNT_HELD] = "held",
	[CNT_REFUSED] = "refused",
	[CNT_WOULD_HOLD] = "would_hold",
	[CNT_FLAGGED] = "flagged_events",
	[CNT_ERRORS] = "errors",
	[CNT_REDIS_DECIDED] = "redis_decided",
	[CNT_REDIS_FALLBACK] = "redis_fallback",
};

/*
 * daemon_conf - the current config, pinned
 *
 * Every connection pins the config, so this must not serialise them: the
 * pointer is read without a lock.  That is safe because a replaced config
 * is never freed while the daemon runs (daemon_set_conf keeps the
 * daemon's reference on a list): a reader that loaded the old pointer can
 * still take its reference.  Reloads are rare; each keeps a few kilobytes.
 */
struct conf *
daemon_conf(void)
{
	return conf_ref(__atomic_load_n(&sg->conf, __ATOMIC_ACQUIRE));
}

/* daemon_set_conf - make c current */
void
daemon_set_conf(struct conf *c)
{
	struct conf **nr;

	pthread_mutex_lock(&sg->conf_lock);
	nr = realloc(sg->retired, (sg->nretired + 1) * sizeof(*nr));
	if (nr != NULL) {
		sg->retired = nr;
		sg->retired[sg->nretired++] = sg->conf;
	}
	__atomic_store_n(&sg->conf, c, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&sg->conf_lock);
	/* with no room to remember it, the old one is leaked, never freed */
}

/* daemon_conf_free - drop the current and every replaced config (at exit) */
void
daemon_conf_free(void)
{
	size_t i;

	conf_unref(sg->conf);
	sg->conf = NULL;
	for (i = 0; i < sg->nretired; i++)
		conf_unref(sg->retired[i]);
	free(sg->retired);
	sg->retired = NULL;
	sg->nretired = 0;
}

/* daemon_count - add n to a counter */
void
daemon_count(enum daemon_counter k, uint64_t n)
{
	__atomic_add_fetch(&sg->counters[k], n, __ATOMIC_RELAXED);
}

/* daemon_counter - read a counter */
uint64_t
daemon_counter(enum daemon_counter k)
{
	return __atomic_load_n(&sg->counters[k], __ATOMIC_RELAXED);
}

/* daemon_counter_name - the name of a counter */
const char *
daemon_counter_name(enum daemon_counter k)
{
	return counter_names[k];
}

/* daemon_persist_flag - write the (already latched) flag of user */
int
daemon_persist_flag(const char *user, const struct account_flag *f,
    const char *reason, const char *source, const char *client,
    const char *queue_id)
{
	struct store_flag sf;
	char euser[3 * 321];

	memset(&sf, 0, sizeof(sf));
	snprintf(sf.user, sizeof(sf.user), "%s", user);
	sf.flagged_at = f->at;
	snprintf(sf.limit, sizeof(sf.limit), "%s", policy_limit_name(f->limit));
	sf.count = f->count;
	sf.max = f->max;
	sf.window = f->window;
	snprintf(sf.reason, sizeof(sf.reason), "%s", reason ? reason : "");
	snprintf(sf.source, sizeof(sf.source), "%s", source);
	snprintf(sf.client, sizeof(sf.client), "%s", client ? client : "");
	snprintf(sf.queue_id, sizeof(sf.queue_id), "%s",
	    queue_id ? queue_id : "");
	if (storeq_flag_put_sync(sg->storeq, &sf) == -1) {
		escape_value(euser, sizeof(euser), user);
		log_warnx("store: flag of user=%s not yet written; it holds "
		    "in memory and will be retried", euser);
		return -1;
	}
	return 0;
}

/* daemon_flag - flag user in memory and in the store */
int
daemon_flag(const char *user, const struct account_flag *f,
    const char *reason, const char *source, const char *client,
    const char *queue_id)
{
	int r;

	if ((r = accounts_flag(sg->accounts, user, f, f->at)) != 1)
		return r;
	/* cluster mode: to Redis and the other servers (or kept to push) */
	cluster_flag(user, f, reason, source, client, queue_id);
	if (daemon_persist_flag(user, f, reason, source, client,
	    queue_id) == -1)
		return -1;
	return 1;
}

/* daemon_unflag - clear user's flag in memory and in the store */
int
daemon_unflag(const char *user)
{
	int r = accounts_unflag(sg->accounts, user);

	cluster_unflag(user, time(NULL));	/* cluster mode: everywhere */
	if (storeq_flag_del_sync(sg->storeq, user) == -1)
		return -1;
	return r;
}

/* daemon_journal - append one event to the journal */
void
daemon_journal(enum journal_event ev, const char *user,
    const struct journal_field *fields, size_t nfields)
{
	if (sg->journal != NULL)
		(void) journal_append(sg->journal, time(NULL), ev, user, fields,
		    nfields);
}

/* daemon_reload - load the config file again */
int
daemon_reload(char *err, size_t len)
{
	struct conf *c;
	char jerr[256];

	/* logrotate's postrotate may send SIGUSR1: reopen the journal too */
	if (sg->journal != NULL &&
	    journal_writer_reopen(sg->journal, jerr, sizeof(jerr)) == -1)
		log_warnx("journal: %s", jerr);
	if (conf_load(sg->conf_path, &c, err, len) == -1)
		return -1;
	daemon_set_conf(c);
	daemon_journal(JOURNAL_RELOAD, "", NULL, 0);
	return 0;
}
