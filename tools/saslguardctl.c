/*
 * saslguardctl.c - the operator's command: one table of commands
 *
 * Every command but audit talks to the daemon over the control socket;
 * audit reads log files only.  Exit status: 0 ok, 1 error (the daemon
 * said no, or could not be reached), 2 usage.
 *
 * Thread safety: single-threaded.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "conf.h"
#include "ctlclient.h"
#include "ctlout.h"
#include "verify.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_SOCKET "/run/saslguard/control.sock"

struct opts {
	const char *socket;
	const char *config;
	int         json;
	int         prometheus;
	int         color;
	int         timeout;
};

struct cmd {
	const char *name;
	const char *args;
	int         minargs, maxargs;
	const char *help;
	int (*fn)(const struct opts *, const struct cmd *, int, char **);
};

/* what a call collected: rows and the final line */
struct result {
	struct table *rows;
	struct ctl_reply last;
};

static int
collect(const struct ctl_reply *r, void *arg)
{
	struct result *res = arg;
	const char *type = ctl_reply_get(r, "type");

	/* progress of a long operation: for a person at a terminal only */
	if (r->kind == CTL_ROW && type != NULL && strcmp(type, "progress") == 0) {
		if (isatty(STDERR_FILENO))
			fprintf(stderr, "\r%s of %s done", ctl_reply_get(r, "done") ?
			    ctl_reply_get(r, "done") : "?", ctl_reply_get(r,
			    "total") ? ctl_reply_get(r, "total") : "?");
		return 0;
	}
	if (r->kind == CTL_ROW)
		return table_add(res->rows, r);
	res->last = *r;
	/* the pairs point into r->buf: re-point them into our copy */
	{
		int i;

		for (i = 0; i < res->last.npairs; i++) {
			res->last.pair[i].key = res->last.buf +
			    (r->pair[i].key - r->buf);
			res->last.pair[i].value = res->last.buf +
			    (r->pair[i].value - r->buf);
		}
		res->last.message = r->message >= r->buf &&
		    r->message < r->buf + sizeof(r->buf) ?
		    res->last.buf + (r->message - r->buf) : "";
	}
	return 0;
}

/* call - one request; 0 ok, 1 daemon error (printed), -1 failure (printed) */
static int
call(const struct opts *o, const char *cmd, int argc, char **argv,
    struct result *res)
{
	struct ctlclient *c;
	char err[1024];
	int rc;

	if ((res->rows = table_create()) == NULL) {
		fprintf(stderr, "saslguardctl: out of memory\n");
		return -1;
	}
	if ((c = ctlclient_open(o->socket, o->timeout, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "saslguardctl: %s\n", err);
		return -1;
	}
	rc = ctlclient_call(c, cmd, argc, (const char *const *) argv, collect,
	    res, err, sizeof(err));
	ctlclient_close(c);
	if (rc != 0) {
		fprintf(stderr, "saslguardctl: %s: ", cmd);
		safe_print(stderr, err);
		fputc('\n', stderr);
	}
	return rc;
}

/* finish - exit status of a call, freeing its rows */
static int
finish(struct result *res, int rc)
{
	table_destroy(res->rows);
	return rc == 0 ? 0 : 1;
}

static int
c_list(const struct opts *o, const struct cmd *cm, int argc, char **argv)
{
	static const char *const cols[] = { "user", "flagged_at", "reason",
		"held", NULL };
	struct result res;
	int rc;

	(void) cm;
	if ((rc = call(o, "list", argc, argv, &res)) != 0)
		return finish(&res, rc);
	if (o->json)
		table_print_json(stdout, res.rows);
	else if (table_rows(res.rows) == 0)
		printf("no flagged accounts\n");
	else
		table_print(stdout, res.rows, cols, o->color);
	return finish(&res, 0);
}

/* show_signals - the signals' row of "show": baseline and counts */
static void
show_signals(const struct table *t)
{
#define S(k) (table_get(t, "signals", k) ? table_get(t, "signals", k) : "")
	if (table_get(t, "signals", "baseline") == NULL)
		return;
	printf("recipient domains:       %s of %s in %s\n",
	    S("recipient_domains"), S("recipient_domains_max"),
	    S("recipient_domains_window"));
	printf("distinct recipients:     %s of %s in %s\n",
	    S("distinct_recipients"), S("distinct_recipients_max"),
	    S("distinct_recipients_window"));
	printf("bounces received:        %s of %s in %s\n", S("bounces"),
	    S("bounces_max"), S("bounces_window"));
	printf("failed logins:           %s of %s in %s\n", S("failed_logins"),
	    S("failed_logins_max"), S("failed_logins_window"));
	printf("known networks:          %s\n", S("known_networks"));
	printf("baseline:                %s", S("baseline"));
	if (table_get(t, "signals", "baseline_history") != NULL)
		printf(", history %s", S("baseline_history"));
	printf("\n");
	if (table_get(t, "signals", "baseline_messages_mean") == NULL)
		return;
	printf("  messages per hour:     mean %s, sd %s, last hour %s",
	    S("baseline_messages_mean"), S("baseline_messages_sd"),
	    S("baseline_messages_last_hour"));
	if (table_get(t, "signals", "baseline_messages_bar") != NULL)
		printf(", bar %s", S("baseline_messages_bar"));
	printf("\n  recipients per hour:   mean %s, sd %s, last hour %s",
	    S("baseline_recipients_mean"), S("baseline_recipients_sd"),
	    S("baseline_recipients_last_hour"));
	if (table_get(t, "signals", "baseline_recipients_bar") != NULL)
		printf(", bar %s", S("baseline_recipients_bar"));
	printf("\n");
#undef S
}

static int
c_show(const struct opts *o, const struct cmd *cm, int argc, char **argv)
{
	static const char *const mcols[] = { "queue_id", "queue", "sender",
		"recipients", "arrival", NULL };
	static const char *const ncols[] = { "network", "last_seen", NULL };
	struct result res;
	struct table *t;
	int rc;

	(void) cm;
	if ((rc = call(o, "show", argc, argv, &res)) != 0)
		return finish(&res, rc);
	if (o->json) {
		printf("{\"account\": ");
		table_print_json_object(stdout, res.rows, "account");
		printf(", \"signals\": ");
		table_print_json_object(stdout, res.rows, "signals");
		printf(", \"networks\": ");
		table_print_json_type(stdout, res.rows, "network");
		printf(", \"senders\": ");
		table_print_json_type(stdout, res.rows, "sender");
		printf(", \"messages\": ");
		table_print_json_type(stdout, res.rows, "message");
		printf("}\n");
		return finish(&res, 0);
	}
	t = res.rows;
#define G(k) (table_get(t, "account", k) ? table_get(t, "account", k) : "")
	printf("user:                    ");
	safe_print(stdout, G("user"));
	printf("\nflagged:                 %s", G("flagged"));
	if (strcmp(G("flagged"), "yes") == 0) {
		printf(" since %s: ", G("flagged_at"));
		safe_print(stdout, G("reason"));
	}
	printf("\nmessages:                %s of %s in %s\n", G("messages"),
	    G("messages_max"), G("messages_window"));
	printf("recipients:              %s of %s in %s\n", G("recipients"),
	    G("recipients_max"), G("recipients_window"));
	printf("client networks:         %s of %s in %s\n",
	    G("client_addresses"), G("client_addresses_max"),
	    G("client_addresses_window"));
	printf("recipients per message:  at most %s\n",
	    G("recipients_per_message_max"));
	printf("sender mismatch check:   %s\n", G("sender_mismatch"));
	printf("last seen:               %s\n", G("last_seen"));
	printf("held (recorded):         %s\n", G("held_recorded"));
#undef G
	show_signals(t);
	if (table_get(t, "network", "network") != NULL) {
		printf("\n");
		table_print_type(stdout, t, "network", ncols, o->color);
	}
	if (table_get(t, "sender", "sender") != NULL) {
		printf("\n");
		table_print_type(stdout, t, "sender",
		    (const char *const[]) { "sender", NULL }, o->color);
	}
	printf("\n");
	if (table_get(t, "message", "queue_id") == NULL)
		printf("no mail in the queue\n");
	else
		table_print_type(stdout, t, "message", mcols, o->color);
	return finish(&res, 0);
}

static int
c_simple(const struct opts *o, const struct cmd *cm, int argc, char **argv)
{
	struct result res;
	int rc;

	if ((rc = call(o, cm->name, argc, argv, &res)) != 0)
		return finish(&res, rc);
	if (o->json)
		reply_print_json(stdout, &res.last);
	else if (strcmp(cm->name, "flag") == 0)
		printf("%s: flagged%s\n", argv[0],
		    strcmp(ctl_reply_get(&res.last, "already") ?
		    ctl_reply_get(&res.last, "already") : "", "yes") == 0 ?
		    " (it already was)" : "");
	else if (strcmp(cm->name, "unflag") == 0)
		printf("%s: unflagged\n", argv[0]);
	else if (strcmp(cm->name, "reload") == 0)
		printf("configuration reloaded\n");
	else
		reply_print_pairs(stdout, &res.last, 0);
	return finish(&res, 0);
}

static int
c_queue(const struct opts *o, const struct cmd *cm, int argc, char **argv)
{
	static const char *const cols[] = { "queue_id", "queue", "sender",
		"recipients", "arrival", NULL };
	struct result res;
	int rc;

	(void) cm;
	if ((rc = call(o, "queue", argc, argv, &res)) != 0)
		return finish(&res, rc);
	if (o->json)
		table_print_json(stdout, res.rows);
	else if (table_rows(res.rows) == 0)
		printf("%s: no mail in the queue\n", argv[0]);
	else
		table_print_type(stdout, res.rows, "message", cols, o->color);
	return finish(&res, 0);
}

static int
c_bulk(const struct opts *o, const struct cmd *cm, int argc, char **argv)
{
	static const char *const dcols[] = { "server", "deleted", "hold",
		"incoming", "active", "deferred", "status", "error", NULL };
	static const char *const ddcols[] = { "server", "would_delete", "hold",
		"incoming", "active", "deferred", "status", "error", NULL };
	static const char *const rcols[] = { "server", "released", "requeued",
		"status", "error", NULL };
	static const char *const rdcols[] = { "server", "would_release",
		"requeued", "status", "error", NULL };
	int del = strcmp(cm->name, "delete") == 0;
	struct result res;
	const char *v;
	int rc, dry = argc > 1, cluster;

	if (!o->json && isatty(STDERR_FILENO))
		fprintf(stderr, "%s: %s the queued mail of %s...\n",
		    "saslguardctl", del ? "deleting" : "releasing", argv[0]);
	rc = call(o, cm->name, argc, argv, &res);
	if (!o->json && isatty(STDERR_FILENO))
		fprintf(stderr, "\r\033[K");
	if (rc != 0)
		return finish(&res, rc);
	/* in cluster mode every server answers with a row of its own */
	cluster = table_get(res.rows, NULL, "server") != NULL;
	if (o->json) {
		if (cluster) {
			reply_print_json_open(stdout, &res.last);
			printf(", \"per_server\": ");
			table_print_json_type(stdout, res.rows, NULL);
			printf("}\n");
		} else
			reply_print_json(stdout, &res.last);
		return finish(&res, 0);
	}
	if (cluster)
		table_print(stdout, res.rows, del ? (dry ? ddcols : dcols) :
		    (dry ? rdcols : rcols), o->color);
	else if (dry)
		table_print(stdout, res.rows, NULL, o->color);
	if (del) {
		v = ctl_reply_get(&res.last, dry ? "would_delete" : "deleted");
		printf("%s: %s %s message(s): hold %s, incoming %s, active %s, "
		    "deferred %s\n", argv[0], dry ? "would delete" : "deleted",
		    v ? v : "0", ctl_reply_get(&res.last, "hold") ?
		    ctl_reply_get(&res.last, "hold") : "0",
		    ctl_reply_get(&res.last, "incoming") ?
		    ctl_reply_get(&res.last, "incoming") : "0",
		    ctl_reply_get(&res.last, "active") ?
		    ctl_reply_get(&res.last, "active") : "0",
		    ctl_reply_get(&res.last, "deferred") ?
		    ctl_reply_get(&res.last, "deferred") : "0");
	} else {
		v = ctl_reply_get(&res.last, dry ? "would_release" :
		    "released");
		printf("%s: %s %s held message(s) (%s requeued)\n", argv[0],
		    dry ? "would release" : "released", v ? v : "0",
		    ctl_reply_get(&res.last, "requeued") ?
		    ctl_reply_get(&res.last, "requeued") : "0");
	}
	if ((v = ctl_reply_get(&res.last, "missing")) != NULL && v[0] != '\0') {
		printf("servers that did not answer: ");
		safe_print(stdout, v);
		printf("\n");
	}
	return finish(&res, 0);
}

static int
c_stats(const struct opts *o, const struct cmd *cm, int argc, char **argv)
{
	struct result res;
	int rc;

	(void) cm;
	if ((rc = call(o, "stats", argc, argv, &res)) != 0)
		return finish(&res, rc);
	if (o->prometheus)
		reply_print_prometheus(stdout, &res.last, "saslguard");
	else if (o->json)
		reply_print_json(stdout, &res.last);
	else
		reply_print_pairs(stdout, &res.last, 0);
	return finish(&res, 0);
}

static int
c_audit(const struct opts *o, const struct cmd *cm, int argc, char **argv)
{
	int i;

	(void) o;
	(void) cm;
	/* audit --verify JOURNAL...: the journal's hash chain (verify.c) */
	for (i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--verify") == 0) {
			for (; i < argc; i++)
				argv[i] = argv[i + 1];
			return verify_main(argc, argv - 1);
		}
	return audit_main(argc + 1, argv - 1);
}

static const struct cmd cmds[] = {
	{ "list", "", 0, 0, "flagged accounts: user, when, why, held mail",
	    c_list },
	{ "show", "USER", 1, 1, "an account: flag, window counts against "
	    "limits, networks, senders, queued mail", c_show },
	{ "flag", "USER [REASON]", 1, 2, "flag an account by hand and hold "
	    "its queued mail", c_simple },
	{ "unflag", "USER", 1, 1, "clear an account's flag", c_simple },
	{ "queue", "USER", 1, 1, "the account's mail in any Postfix queue",
	    c_queue },
	{ "delete", "USER [--dry-run]", 1, 2, "delete all of the account's "
	    "queued mail, in every queue", c_bulk },
	{ "release", "USER [--dry-run]", 1, 2, "release the account's held "
	    "mail for delivery", c_bulk },
	{ "stats", "[--prometheus]", 0, 0, "counters of the running daemon",
	    c_stats },
	{ "reload", "", 0, 0, "read the configuration file again", c_simple },
	{ "audit", "[OPTIONS] FILE...", 0,
	    1000000, "reconstruct incidents from mail logs (no daemon "
	    "needed; see audit --help)", c_audit },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: saslguardctl [-s SOCKET] [-c CONFIG] [--json] "
	    "COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %-24s %s\n", cmds[i].name, cmds[i].args,
		    cmds[i].help);
	fprintf(f, "\noptions:\n"
	    "  -s, --socket PATH  control socket (default: control_socket of "
	    "the config)\n"
	    "  -c, --config FILE  configuration (default %s/saslguard.conf)\n"
	    "  -j, --json         machine-readable output\n"
	    "      --no-color     no colour even on a terminal\n"
	    "  -h, --help         this text; COMMAND --help for one command\n"
	    "\nexit status: 0 ok, 1 error, 2 usage\n", SYSCONFDIR);
}

/*
 * socket_from_config - the control socket named in the config, or the
 * default; written into sock (len bytes)
 */
static const char *
socket_from_config(const char *path, int explicit_config, char *sock,
    size_t len)
{
	struct conf *c;
	char err[2048];

	if (conf_load(path, &c, err, sizeof(err)) == -1) {
		if (explicit_config)
			fprintf(stderr, "saslguardctl: %s\n", err);
		return DEFAULT_SOCKET;
	}
	if ((size_t) snprintf(sock, len, "%s", c->control_socket ?
	    c->control_socket : DEFAULT_SOCKET) >= len)
		snprintf(sock, len, "%s", DEFAULT_SOCKET);
	conf_unref(c);
	return sock;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'P' },
		{ "no-color", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { NULL, SYSCONFDIR "/saslguard.conf", 0, 0, 0, 60 };
	const struct cmd *cm = NULL;
	char sockbuf[4096];
	int ch, i, nargs, explicit_config = 0, nocolor = 0;

	/* options stop at the command word, so each command parses its own */
	while ((ch = getopt_long(argc, argv, "+s:c:jh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o.socket = optarg;
			break;
		case 'c':
			o.config = optarg;
			explicit_config = 1;
			break;
		case 'j':
			o.json = 1;
			break;
		case 'P':
			o.prometheus = 1;
			break;
		case 'C':
			nocolor = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < (int) (sizeof(cmds) / sizeof(cmds[0])); i++)
		if (strcmp(argv[optind], cmds[i].name) == 0)
			cm = &cmds[i];
	if (cm == NULL) {
		fprintf(stderr, "saslguardctl: unknown command \"%s\"\n",
		    argv[optind]);
		usage(stderr);
		return 2;
	}
	argv += optind + 1;
	argc -= optind + 1;
	if (cm->fn == c_audit)
		return cm->fn(&o, cm, argc, argv);
	/* options after the command word: --json, --prometheus, --help */
	for (i = nargs = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0)
			o.json = 1;
		else if (strcmp(argv[i], "--prometheus") == 0 &&
		    cm->fn == c_stats)
			o.prometheus = 1;
		else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			printf("usage: saslguardctl %s %s\n  %s\n", cm->name,
			    cm->args, cm->help);
			return 0;
		} else
			argv[nargs++] = argv[i];
	}
	argc = nargs;
	if (argc < cm->minargs || argc > cm->maxargs ||
	    (argc == 2 && cm->fn == c_bulk && strcmp(argv[1], "--dry-run") != 0 &&
	    strcmp(argv[1], "-n") != 0)) {
		fprintf(stderr, "usage: saslguardctl %s %s\n", cm->name,
		    cm->args);
		return 2;
	}
	o.color = !nocolor && isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	if (o.socket == NULL)
		o.socket = socket_from_config(o.config, explicit_config, sockbuf,
		    sizeof(sockbuf));
	return cm->fn(&o, cm, argc, argv);
}
