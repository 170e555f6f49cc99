/*
 * main.c - saslguard: options, config, state, sockets, threads, smfi_main
 *
 * Start-up order matters: signals are blocked before any thread exists so
 * that only the signal thread sees SIGUSR1 (reload) and libmilter's own
 * thread sees SIGTERM/SIGHUP/SIGINT (stop); the store is opened and every
 * flag loaded into memory before the milter socket accepts a connection,
 * so no message of a flagged account can slip through after a restart.
 * The accounts' histories (baselines, known networks) are loaded then
 * too, written back every hour by the housekeeping thread, in batches
 * and off the SMTP path, and once more when the daemon stops.
 *
 * Thread safety: single-threaded until smfi_main().
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "accounts.h"
#include "authwatch.h"
#include "callbacks.h"
#include "conf.h"
#include "cluster.h"
#include "control.h"
#include "daemon.h"
#include "escape.h"
#include "log.h"
#include "policy.h"
#include "privsep.h"
#include "queuetool.h"
#include "store.h"
#include "storeq.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define HOUSEKEEPING_INTERVAL 60
#define HISTORY_INTERVAL      3600	/* seconds between history writes */
#define HISTORY_BATCH         256	/* accounts per store transaction */
#define THREAD_STACK          (1024 * 1024) /* bytes; see thread_stacks() */

static struct daemon daemon_state;

static void
usage(void)
{
	fprintf(stderr, "usage: saslguard [-dfhtV] [-c config]\n"
	    "  -c FILE  configuration file (default %s/saslguard.conf)\n"
	    "  -d       debug logging\n"
	    "  -f       stay in the foreground, log to stderr too\n"
	    "  -t       check the configuration and exit\n"
	    "  -V       print the version and exit\n", SYSCONFDIR);
	exit(2);
}

/* store_error - storeq's failure reports, already rate-limited */
static void
store_error(const char *msg, void *arg)
{
	(void) arg;
	log_warnx("store: %s", msg);
}

/* load_flag - one stored flag into the account table */
static int
load_flag(const struct store_flag *sf, void *arg)
{
	struct account_flag f;
	size_t *n = arg;

	memset(&f, 0, sizeof(f));
	f.at = sf->flagged_at;
	f.limit = policy_limit_parse(sf->limit);
	if (f.limit == LIMIT_NONE)
		f.limit = LIMIT_OPERATOR;
	f.count = sf->count;
	f.max = sf->max;
	f.window = sf->window;
	if (accounts_flag(sg->accounts, sf->user, &f, sf->flagged_at) == -1)
		return -1;
	(*n)++;
	return 0;
}

/* the start-up load of histories */
struct history_load {
	const struct conf *c;
	size_t n;		/* values loaded */
	size_t skipped;		/* names or values not understood */
};

/* load_history - one stored history value into the account table */
static int
load_history(const char *user, const char *key, double value, time_t updated,
    void *arg)
{
	struct history_load *hl = arg;

	switch (accounts_history_load(sg->accounts, hl->c, user, key, value,
	    updated)) {
	case 0:
		hl->n++;
		return 0;
	case 1:
		hl->skipped++;
		return 0;
	default:
		return -1;
	}
}

/* put_history - the rows of one account's history; 0 or -1 */
static int
put_history(struct store *st, const struct account_history *h, time_t now,
    char *err, size_t len)
{
	const char *name;
	char key[32];
	double v;
	size_t i;

	for (i = 0; baseline_export(&h->bl, i, &name, &v) == 0; i++)
		if (store_baseline_put(st, h->user, name, v, now, err,
		    len) == -1)
			return -1;
	for (i = 0; i < h->nnets; i++) {
		snprintf(key, sizeof(key), "net:%" PRIx64, h->nets[i].key);
		if (store_baseline_put(st, h->user, key,
		    (double) h->nets[i].seen, now, err, len) == -1)
			return -1;
	}
	return 0;
}

/*
 * save_histories - write the histories changed since the last call, a
 * batch of accounts per transaction; what could not be written is marked
 * changed again for the next call.  Returns the accounts written, or -1.
 */
static long
save_histories(struct store *st, time_t now, char *err, size_t len)
{
	struct account_history *h;
	size_t n, i, k, done = 0;
	int rc = 0;

	if (accounts_history_collect(sg->accounts, &h, &n) == -1) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	for (i = 0; i < n && rc == 0; i += HISTORY_BATCH) {
		if (store_begin(st, err, len) == -1) {
			rc = -1;
			break;
		}
		for (k = i; k < n && k < i + HISTORY_BATCH && rc == 0; k++)
			rc = put_history(st, &h[k], now, err, len);
		if (rc == 0 && store_commit(st, err, len) == -1)
			rc = -1;
		if (rc == -1)
			store_rollback(st);
		else
			done = k;
	}
	for (i = done; i < n; i++)
		accounts_history_mark(sg->accounts, h[i].user);
	accounts_history_free(h, n);
	return rc == -1 ? -1 : (long) done;
}

/* open_state - the store, its writer and every flag in memory */
static void
open_state(const struct conf *c)
{
	struct history_load hl = { c, 0, 0 };
	char err[512];
	size_t nflags = 0;

	if (store_open(c->state_db, 0, &sg->store, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (store_flags_each(sg->store, load_flag, &nflags, err,
	    sizeof(err)) == -1)
		fatalx("cannot load flags: %s", err);
	if (store_baselines_each(sg->store, load_history, &hl, err,
	    sizeof(err)) == -1)
		fatalx("cannot load account histories: %s", err);
	if (hl.n > 0 || hl.skipped > 0)
		log_info("state: %zu history values loaded, %zu skipped",
		    hl.n, hl.skipped);
	if (store_open(c->state_db, 0, &sg->reader, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if ((sg->storeq = storeq_create(sg->store, 100, store_error,
	    NULL)) == NULL)
		fatalx("cannot start the store writer");
	/* without its journal the daemon still guards the mail: say so */
	if (c->journal != NULL && (sg->journal = journal_writer_open(
	    c->journal, err, sizeof(err))) == NULL)
		log_warnx("%s: running without the journal", err);
	log_info("state: %s: %zu flagged accounts loaded", c->state_db,
	    nflags);
}

/* open_milter_socket - the socket Postfix connects to, with its mode */
static void
open_milter_socket(const struct conf *c)
{
	struct group *gr;
	const char *path = NULL;
	mode_t old;

	if (smfi_setconn(c->milter_socket) == MI_FAILURE)
		fatalx("bad milter_socket %s", c->milter_socket);
	if (smfi_settimeout((int) c->milter_timeout) == MI_FAILURE)
		fatalx("bad milter_timeout");
	if (strncmp(c->milter_socket, "unix:", 5) == 0)
		path = c->milter_socket + 5;
	else if (strncmp(c->milter_socket, "local:", 6) == 0)
		path = c->milter_socket + 6;
	old = umask(0777 & ~c->milter_socket_mode);
	if (smfi_opensocket(1) == MI_FAILURE)
		fatalx("cannot open milter socket %s", c->milter_socket);
	umask(old);
	if (path == NULL)
		return;
	if (chmod(path, c->milter_socket_mode) == -1)
		fatal("chmod %s", path);
	if (c->milter_socket_group != NULL) {
		if ((gr = getgrnam(c->milter_socket_group)) == NULL)
			fatalx("milter_socket_group %s: no such group",
			    c->milter_socket_group);
		if (chown(path, (uid_t) -1, gr->gr_gid) == -1)
			fatal("chown %s", path);
	}
}

/* signal_thread - SIGUSR1 reloads the config */
static void *
signal_thread(void *arg)
{
	sigset_t *set = arg;
	char err[4096];
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			if (daemon_reload(err, sizeof(err)) == -1)
				log_warnx("reload: %s: keeping the running "
				    "configuration: %s", sg->conf_path, err);
			else
				log_info("reload: %s: new configuration in "
				    "force", sg->conf_path);
		}
	}
	return NULL;
}

/* final_save - the histories changed since the last hourly write */
static void
final_save(const struct conf *c)
{
	struct store *st;
	char err[512];
	long w;

	if (store_open(c->state_db, 0, &st, err, sizeof(err)) == -1) {
		log_warnx("stopping: account histories not written: %s", err);
		return;
	}
	if ((w = save_histories(st, time(NULL), err, sizeof(err))) == -1)
		log_warnx("stopping: account histories: %s", err);
	else if (w > 0)
		log_info("stopping: %ld account histories written", w);
	store_close(st);
}

/* housekeeping_thread - expire idle accounts and old store rows */
static void *
housekeeping_thread(void *arg)
{
	struct store *st = NULL;
	struct conf *c;
	char err[512];
	time_t saved = time(NULL);
	size_t n;
	long w;

	(void) arg;
	c = daemon_conf();
	if (store_open(c->state_db, 0, &st, err, sizeof(err)) == -1)
		log_warnx("housekeeping: %s", err);
	conf_unref(c);
	for (;;) {
		sleep(HOUSEKEEPING_INTERVAL);
		c = daemon_conf();
		n = accounts_expire(sg->accounts, c, time(NULL));
		if (n > 0)
			log_debug("housekeeping: %zu idle accounts expired", n);
		if (st != NULL && store_msgs_expire(st,
		    time(NULL) - (time_t) c->retention, NULL, err,
		    sizeof(err)) == -1)
			log_warnx("housekeeping: %s", err);
		conf_unref(c);
		if (st != NULL && time(NULL) - saved >= HISTORY_INTERVAL) {
			saved = time(NULL);
			if ((w = save_histories(st, saved, err,
			    sizeof(err))) == -1)
				log_warnx("housekeeping: account histories: %s",
				    err);
			else if (w > 0)
				log_debug("housekeeping: %ld account "
				    "histories written", w);
		}
	}
	return NULL;
}

/*
 * thread_stacks - a smaller stack for every thread created from here on
 *
 * libmilter starts a thread per connection with default attributes, so
 * with the usual 8 MB stack glibc's cache of freed stacks (40 MB) keeps
 * five: under load nearly every connection maps a new stack, faults its
 * pages in and unmaps it again, which stops every CPU for a TLB
 * flush.  Measured: a quarter of the daemon's CPU per message.  1 MB is
 * far more than any callback, the store writer (SQLite) or hiredis use.
 */
static void
thread_stacks(void)
{
	pthread_attr_t a;

	if (pthread_attr_init(&a) != 0)
		return;
	if (pthread_attr_setstacksize(&a, THREAD_STACK) != 0 ||
	    pthread_setattr_default_np(&a) != 0)
		log_warnx("cannot set the thread stack size; using the default");
	pthread_attr_destroy(&a);
}

int
main(int argc, char *argv[])
{
	const char *path = SYSCONFDIR "/saslguard.conf";
	struct conf *c;
	pthread_t tid;
	sigset_t set;
	char err[8192];
	int ch, check = 0, debug = 0, rc;

	while ((ch = getopt(argc, argv, "c:dfhtV")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'f':
			daemon_state.foreground = 1;
			break;
		case 't':
			check = 1;
			break;
		case 'V':
			printf("saslguard %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	if (conf_load(path, &c, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check) {
		printf("%s: configuration OK\n", path);
		conf_unref(c);
		return 0;
	}

	sg = &daemon_state;
	sg->conf = c;
	sg->conf_path = path;
	sg->started = time(NULL);
	pthread_mutex_init(&sg->conf_lock, NULL);
	pthread_mutex_init(&sg->reader_lock, NULL);
	if (log_init("saslguard", c->syslog_facility, sg->foreground) == -1)
		log_warnx("unknown syslog_facility %s, using mail",
		    c->syslog_facility);
	log_set_debug(debug);

	/*
	 * Every thread inherits this mask: SIGUSR1 goes to the signal thread,
	 * SIGTERM/SIGHUP/SIGINT to libmilter's own (smfi_main), SIGPIPE to
	 * nobody.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGPIPE);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		fatalx("pthread_sigmask failed");
	thread_stacks();
	/* a file-size limit must give EFBIG to the store, not kill us */
	signal(SIGXFSZ, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);

	if (!sg->foreground) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		(void) log_init("saslguard", c->syslog_facility, 0);
	}
	if ((sg->accounts = accounts_create()) == NULL)
		fatalx("out of memory");
	/* the privileged helper first: it must not inherit anything else */
	if (queuetool_start(c, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (smfi_register(*callbacks_filter()) == MI_FAILURE)
		fatalx("smfi_register failed");
	open_milter_socket(c);
	if (privsep_drop(c, err, sizeof(err)) == -1)
		fatalx("%s", err);
	open_state(c);
	if (cluster_start(c, err, sizeof(err)) == -1)	/* cluster mode */
		fatalx("%s", err);
	if (control_start(c, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (authwatch_start(c, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (pthread_create(&tid, NULL, signal_thread, &set) != 0 ||
	    pthread_detach(tid) != 0)
		fatalx("cannot start the signal thread");
	if (pthread_create(&tid, NULL, housekeeping_thread, NULL) != 0 ||
	    pthread_detach(tid) != 0)
		fatalx("cannot start the housekeeping thread");

	log_info("starting: mode=%s milter_socket=%s config=%s",
	    c->mode == MODE_MONITOR ? "monitor" : "enforce", c->milter_socket,
	    path);
	rc = smfi_main();
	log_info("stopping");
	authwatch_stop();
	c = daemon_conf();
	final_save(c);
	conf_unref(c);
	control_stop();
	cluster_stop();
	queuetool_stop();
	storeq_destroy(sg->storeq);
	journal_writer_close(sg->journal);
	store_close(sg->store);
	store_close(sg->reader);
	accounts_destroy(sg->accounts);
	daemon_conf_free();
	return rc == MI_SUCCESS ? 0 : 1;
}
