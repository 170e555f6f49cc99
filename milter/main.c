/*
 * main.c - saslguard: options, config, state, sockets, threads, smfi_main
 *
 * Start-up order matters: signals are blocked before any thread exists so
 * that only the signal thread sees SIGUSR1 (reload) and libmilter's own
 * thread sees SIGTERM/SIGHUP/SIGINT (stop); the store is opened and every
 * flag loaded into memory before the milter socket accepts a connection,
 * so no message of a flagged account can slip through after a restart.
 *
 * Thread safety: single-threaded until smfi_main().
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <grp.h>
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

/* open_state - the store, its writer and every flag in memory */
static void
open_state(const struct conf *c)
{
	char err[512];
	size_t nflags = 0;

	if (store_open(c->state_db, 0, &sg->store, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (store_flags_each(sg->store, load_flag, &nflags, err,
	    sizeof(err)) == -1)
		fatalx("cannot load flags: %s", err);
	if (store_open(c->state_db, 0, &sg->reader, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if ((sg->storeq = storeq_create(sg->store, 100, store_error,
	    NULL)) == NULL)
		fatalx("cannot start the store writer");
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

/* housekeeping_thread - expire idle accounts and old store rows */
static void *
housekeeping_thread(void *arg)
{
	struct store *st = NULL;
	struct conf *c;
	char err[512];
	size_t n;

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
	}
	return NULL;
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
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);

	if (!sg->foreground && daemon(0, 0) == -1)
		fatal("daemon");
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
	control_stop();
	cluster_stop();
	queuetool_stop();
	storeq_destroy(sg->storeq);
	store_close(sg->store);
	store_close(sg->reader);
	accounts_destroy(sg->accounts);
	conf_unref(sg->conf);
	return rc == MI_SUCCESS ? 0 : 1;
}
