/*
 * test_conf.c - tests for common/conf.c
 *
 * Each test writes a small configuration file into a fresh temporary
 * directory, loads it and checks the result or the "file:line: message"
 * errors.  The sample etc/saslguard.conf is loaded too, from $srcdir
 * (exported by automake; "." when run by hand from the top directory), and
 * must document exactly the built-in defaults.
 */
#include "config.h"

#include <sys/stat.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "conf.h"

#define ERRLEN 4096

/* write_file - text into a new file "name" of a new temporary directory */
static void
write_file(const char *text, const char *name, char *dir, size_t dirlen,
    char *path, size_t pathlen)
{
	FILE *fp;
	int   n;

	n = snprintf(dir, dirlen, "/tmp/test_conf.XXXXXX");
	cr_assert(n > 0 && (size_t) n < dirlen);
	cr_assert_not_null(mkdtemp(dir));
	n = snprintf(path, pathlen, "%s/%s", dir, name);
	cr_assert(n > 0 && (size_t) n < pathlen);
	cr_assert_not_null(fp = fopen(path, "w"));
	cr_assert_eq(fputs(text, fp) >= 0, 1);
	cr_assert_eq(fclose(fp), 0);
}

/* load - conf_load() of text written to saslguard.conf; the file is removed */
static int
load(const char *text, struct conf **c, char *err, size_t errlen)
{
	char dir[64], path[128];
	int  rc;

	write_file(
	    text, "saslguard.conf", dir, sizeof(dir), path, sizeof(path));
	rc = conf_load(path, c, err, errlen);
	(void) unlink(path);
	(void) rmdir(dir);
	return rc;
}

/* load_ok - load text that must be valid */
static struct conf *
load_ok(const char *text)
{
	struct conf *c = NULL;
	char         err[ERRLEN];

	err[0] = '\0';
	cr_assert_eq(load(text, &c, err, sizeof(err)), 0, "errors: %s", err);
	cr_assert_not_null(c);
	return c;
}

/* load_err - load text that must be refused; its errors into err */
static void
load_err(const char *text, char *err, size_t errlen)
{
	struct conf *c = NULL;

	cr_assert_eq(load(text, &c, err, errlen), -1);
	cr_assert_null(c);
}

/* has - assert that err contains want */
static void
has(const char *err, const char *want)
{
	cr_assert_not_null(strstr(err, want), "'%s' not in:\n%s", want, err);
}

/* nlines - number of lines in err */
static int
nlines(const char *err)
{
	int n = err[0] != '\0';

	for (; *err != '\0'; err++)
		n += *err == '\n';
	return n;
}

/* same_str - strings equal or both NULL */
static void
same_str(const char *a, const char *b, const char *what)
{
	if (a == NULL || b == NULL)
		cr_assert(a == b, "%s: %s vs %s", what, a ? a : "NULL",
		    b ? b : "NULL");
	else
		cr_assert_str_eq(a, b, "%s", what);
}

/* same_limits - every field of two limits equal */
static void
same_limits(const struct limits *a, const struct limits *b)
{
	cr_assert_eq(a->messages.max, b->messages.max);
	cr_assert_eq(a->messages.window, b->messages.window);
	cr_assert_eq(a->recipients.max, b->recipients.max);
	cr_assert_eq(a->recipients.window, b->recipients.window);
	cr_assert_eq(a->recipients_per_message, b->recipients_per_message);
	cr_assert_eq(a->client_addresses.max, b->client_addresses.max);
	cr_assert_eq(a->client_addresses.window, b->client_addresses.window);
	cr_assert_eq(a->sender_mismatch, b->sender_mismatch);
}

/* same_conf - every setting of a and b equal (not path, not refs) */
static void
same_conf(const struct conf *a, const struct conf *b)
{
	size_t i;

	same_str(a->milter_socket, b->milter_socket, "milter_socket");
	cr_assert_eq(a->milter_socket_mode, b->milter_socket_mode);
	same_str(a->milter_socket_group, b->milter_socket_group, "group");
	cr_assert_eq(a->milter_timeout, b->milter_timeout);
	cr_assert_eq(a->mode, b->mode);
	cr_assert_eq(a->flagged_action, b->flagged_action);
	cr_assert_eq(a->fail_action, b->fail_action);
	same_str(a->state_db, b->state_db, "state_db");
	cr_assert_eq(a->retention, b->retention);
	same_str(a->control_socket, b->control_socket, "control_socket");
	cr_assert_eq(a->control_socket_mode, b->control_socket_mode);
	cr_assert_eq(a->ncontrol_uids, b->ncontrol_uids);
	for (i = 0; i < a->ncontrol_uids; i++)
		cr_assert_eq(a->control_uids[i], b->control_uids[i]);
	cr_assert_eq(a->ncontrol_gids, b->ncontrol_gids);
	for (i = 0; i < a->ncontrol_gids; i++)
		cr_assert_eq(a->control_gids[i], b->control_gids[i]);
	same_str(a->user, b->user, "user");
	same_str(a->postfix_config_directory, b->postfix_config_directory,
	    "postfix_config_directory");
	same_str(a->postqueue_path, b->postqueue_path, "postqueue");
	same_str(a->postsuper_path, b->postsuper_path, "postsuper");
	cr_assert_eq(a->hold_queued_on_flag, b->hold_queued_on_flag);
	cr_assert_eq(a->strip_tag, b->strip_tag);
	same_str(a->recipient_delimiter, b->recipient_delimiter, "delimiter");
	cr_assert_eq(a->ipv4_prefix, b->ipv4_prefix);
	cr_assert_eq(a->ipv6_prefix, b->ipv6_prefix);
	same_limits(&a->limits, &b->limits);
	cr_assert_eq(a->nexceptions, b->nexceptions);
	same_str(a->on_flag.path, b->on_flag.path, "on_flag.path");
	cr_assert_eq(a->on_flag.argv == NULL, b->on_flag.argv == NULL);
	cr_assert_eq(a->on_flag.timeout, b->on_flag.timeout);
	same_str(a->redis.address, b->redis.address, "redis.address");
	same_str(a->redis.password, b->redis.password, "redis.password");
	same_str(a->redis.prefix, b->redis.prefix, "redis.prefix");
	cr_assert_eq(a->redis.connect_timeout_ms, b->redis.connect_timeout_ms);
	cr_assert_eq(a->redis.timeout_ms, b->redis.timeout_ms);
	same_str(a->redis.server_id, b->redis.server_id, "redis.server_id");
	same_str(a->syslog_facility, b->syslog_facility, "syslog_facility");
}

/* sample_path - etc/saslguard.conf of the source tree */
static void
sample_path(char *buf, size_t len)
{
	const char *srcdir = getenv("srcdir");
	int         n;

	n = snprintf(buf, len, "%s/etc/saslguard.conf",
	    srcdir != NULL && *srcdir != '\0' ? srcdir : ".");
	cr_assert(n > 0 && (size_t) n < len);
}

Test(conf, defaults_suit_a_small_server)
{
	struct conf *c = conf_default();

	cr_assert_not_null(c);
	cr_assert_eq(c->refs, 1);
	cr_assert_null(c->path);
	cr_assert_str_eq(c->milter_socket, "unix:/run/saslguard/milter.sock");
	cr_assert_eq(c->milter_socket_mode, 0660);
	cr_assert_str_eq(c->milter_socket_group, "postfix");
	cr_assert_eq(c->milter_timeout, 30);
	cr_assert_eq(c->mode, MODE_ENFORCE);
	cr_assert_eq(c->flagged_action, FLAGGED_HOLD);
	cr_assert_eq(c->fail_action, FAIL_ACCEPT);
	cr_assert_str_eq(c->state_db, "/var/lib/saslguard/state.db");
	cr_assert_eq(c->retention, 7 * 86400);
	cr_assert_str_eq(c->control_socket, "/run/saslguard/control.sock");
	cr_assert_eq(c->control_socket_mode, 0660);
	cr_assert_eq(c->ncontrol_uids, 1);
	cr_assert_eq(c->control_uids[0], 0);
	/* [ "saslguard" ]: the group's gid where it exists, else none */
	cr_assert_eq(c->ncontrol_gids, getgrnam("saslguard") != NULL ? 1 : 0);
	cr_assert_null(c->user);
	cr_assert_null(c->postfix_config_directory);
	cr_assert_str_eq(c->postqueue_path, PATH_POSTQUEUE);
	cr_assert_str_eq(c->postsuper_path, PATH_POSTSUPER);
	cr_assert_eq(c->hold_queued_on_flag, 1);
	cr_assert_eq(c->strip_tag, 1);
	cr_assert_str_eq(c->recipient_delimiter, "+");
	cr_assert_eq(c->ipv4_prefix, 24);
	cr_assert_eq(c->ipv6_prefix, 64);
	cr_assert_eq(c->limits.messages.max, 100);
	cr_assert_eq(c->limits.messages.window, 3600);
	cr_assert_eq(c->limits.recipients.max, 300);
	cr_assert_eq(c->limits.recipients.window, 3600);
	cr_assert_eq(c->limits.recipients_per_message, 50);
	cr_assert_eq(c->limits.client_addresses.max, 5);
	cr_assert_eq(c->limits.client_addresses.window, 3600);
	cr_assert_eq(c->limits.sender_mismatch, 1);
	cr_assert_eq(c->nexceptions, 0);
	cr_assert_null(c->on_flag.path);
	cr_assert_null(c->on_flag.argv);
	cr_assert_eq(c->on_flag.timeout, 10);
	cr_assert_null(c->redis.address);
	cr_assert_null(c->redis.password);
	cr_assert_str_eq(c->redis.prefix, "saslguard:");
	cr_assert_eq(c->redis.connect_timeout_ms, 200);
	cr_assert_eq(c->redis.timeout_ms, 50);
	cr_assert_null(c->redis.server_id);
	cr_assert_str_eq(c->syslog_facility, "mail");
	conf_unref(c);
}

Test(conf, empty_file_gives_the_defaults)
{
	struct conf *c = load_ok("# nothing set\n");
	struct conf *d = conf_default();

	cr_assert_not_null(d);
	cr_assert_eq(c->refs, 1);
	cr_assert_not_null(c->path);
	cr_assert_not_null(strstr(c->path, "saslguard.conf"));
	same_conf(c, d);
	conf_unref(c);
	conf_unref(d);
}

Test(conf, every_top_level_key_is_read)
{
	struct conf *c = load_ok(
	    "milter_socket = \"inet:8891@127.0.0.1\";\n"
	    "milter_socket_mode = \"0640\";\n"
	    "milter_socket_group = \"mail\";\n"
	    "milter_timeout = \"2m\";\n"
	    "mode = \"monitor\";\n"
	    "flagged_action = \"disconnect\";\n"
	    "fail_action = \"tempfail\";\n"
	    "state_db = \"/srv/sg/state.db\";\n"
	    "retention = \"2w\";\n"
	    "control_socket = \"/srv/sg/control.sock\";\n"
	    "control_socket_mode = \"0600\";\n"
	    "control_allow_users = [ \"nobody\", \"1234\" ];\n"
	    "control_allow_groups = ( \"postfix\", 4321 );\n"
	    "user = \"nobody\";\n"
	    "postfix_config_directory = \"/etc/postfix-out\";\n"
	    "postqueue = \"/opt/postfix/postqueue\";\n"
	    "postsuper = \"/opt/postfix/postsuper\";\n"
	    "hold_queued_on_flag = false;\n"
	    "addresses = { strip_tag = false; recipient_delimiter = \"+-\";\n"
	    "  ipv4_prefix = 32; ipv6_prefix = 48; };\n"
	    "limits = {\n"
	    "  messages = { max = 10; window = \"10m\"; };\n"
	    "  recipients = { max = 0; window = 7200; };\n"
	    "  recipients_per_message = 20;\n"
	    "  client_addresses = { max = 3; window = \"1d\"; };\n"
	    "  sender_mismatch = false;\n"
	    "};\n"
	    "on_flag = { command = [ \"/usr/local/sbin/notify\", \"--flag\" ];\n"
	    "  timeout = \"20s\"; };\n"
	    "redis = { address = \"10.0.0.5:6380\"; password = \"s3cret\";\n"
	    "  prefix = \"sg:\"; connect_timeout = \"1s\"; timeout = \"75ms\";\n"
	    "  server_id = \"mx1\"; };\n"
	    "syslog_facility = \"local3\";\n");
	struct group *pf = getgrnam("postfix");

	cr_assert_str_eq(c->milter_socket, "inet:8891@127.0.0.1");
	cr_assert_eq(c->milter_socket_mode, 0640);
	cr_assert_str_eq(c->milter_socket_group, "mail");
	cr_assert_eq(c->milter_timeout, 120);
	cr_assert_eq(c->mode, MODE_MONITOR);
	cr_assert_eq(c->flagged_action, FLAGGED_DISCONNECT);
	cr_assert_eq(c->fail_action, FAIL_TEMPFAIL);
	cr_assert_str_eq(c->state_db, "/srv/sg/state.db");
	cr_assert_eq(c->retention, 14 * 86400);
	cr_assert_str_eq(c->control_socket, "/srv/sg/control.sock");
	cr_assert_eq(c->control_socket_mode, 0600);
	/* root first, then nobody and 1234 */
	cr_assert_eq(c->ncontrol_uids, 3);
	cr_assert_eq(c->control_uids[0], 0);
	cr_assert_eq(c->control_uids[1], 65534);
	cr_assert_eq(c->control_uids[2], 1234);
	cr_assert_eq(c->ncontrol_gids, 2);
	cr_assert_not_null(pf);
	cr_assert_eq(c->control_gids[0], pf->gr_gid);
	cr_assert_eq(c->control_gids[1], 4321);
	cr_assert_str_eq(c->user, "nobody");
	cr_assert_str_eq(c->postfix_config_directory, "/etc/postfix-out");
	cr_assert_str_eq(c->postqueue_path, "/opt/postfix/postqueue");
	cr_assert_str_eq(c->postsuper_path, "/opt/postfix/postsuper");
	cr_assert_eq(c->hold_queued_on_flag, 0);
	cr_assert_eq(c->strip_tag, 0);
	cr_assert_str_eq(c->recipient_delimiter, "+-");
	cr_assert_eq(c->ipv4_prefix, 32);
	cr_assert_eq(c->ipv6_prefix, 48);
	cr_assert_eq(c->limits.messages.max, 10);
	cr_assert_eq(c->limits.messages.window, 600);
	cr_assert_eq(c->limits.recipients.max, 0);
	cr_assert_eq(c->limits.recipients.window, 7200);
	cr_assert_eq(c->limits.recipients_per_message, 20);
	cr_assert_eq(c->limits.client_addresses.max, 3);
	cr_assert_eq(c->limits.client_addresses.window, 86400);
	cr_assert_eq(c->limits.sender_mismatch, 0);
	cr_assert_str_eq(c->on_flag.path, "/usr/local/sbin/notify");
	cr_assert_str_eq(c->on_flag.argv[0], "/usr/local/sbin/notify");
	cr_assert_str_eq(c->on_flag.argv[1], "--flag");
	cr_assert_null(c->on_flag.argv[2]);
	cr_assert_eq(c->on_flag.timeout, 20);
	cr_assert_str_eq(c->redis.address, "10.0.0.5:6380");
	cr_assert_str_eq(c->redis.password, "s3cret");
	cr_assert_str_eq(c->redis.prefix, "sg:");
	cr_assert_eq(c->redis.connect_timeout_ms, 1000);
	cr_assert_eq(c->redis.timeout_ms, 75);
	cr_assert_str_eq(c->redis.server_id, "mx1");
	cr_assert_str_eq(c->syslog_facility, "local3");
	conf_unref(c);
}

Test(conf, empty_strings_switch_optional_settings_off)
{
	struct conf *c = load_ok("control_socket = \"\";\n"
				 "milter_socket_group = \"\";\n"
				 "user = \"\";\n");

	cr_assert_null(c->control_socket);
	cr_assert_null(c->milter_socket_group);
	cr_assert_null(c->user);
	conf_unref(c);
}

Test(conf, root_is_always_allowed_on_the_control_socket)
{
	struct conf *c = load_ok("control_allow_users = [ ];\n"
				 "control_allow_groups = [ ];\n");

	cr_assert_eq(c->ncontrol_uids, 1);
	cr_assert_eq(c->control_uids[0], 0);
	cr_assert_eq(c->ncontrol_gids, 0);
	conf_unref(c);
	c = load_ok("control_allow_users = ( \"root\", 0, \"nobody\" );\n");
	cr_assert_eq(c->ncontrol_uids, 3);
	cr_assert_eq(c->control_uids[0], 0);
	cr_assert_eq(c->control_uids[1], 0);
	cr_assert_eq(c->control_uids[2], 65534);
	conf_unref(c);
}

Test(conf, unknown_group_name_is_an_error_but_a_numeric_gid_is_not)
{
	char         err[ERRLEN];
	struct conf *c;

	load_err("\n"
		 "control_allow_groups = [ \"no-such-group-sg\" ];\n"
		 "control_allow_users = [ \"no-such-user-sg\" ];\n",
	    err, sizeof(err));
	has(err, "saslguard.conf:2: control_allow_groups: unknown group "
		 "'no-such-group-sg'");
	has(err, "saslguard.conf:3: control_allow_users: unknown user "
		 "'no-such-user-sg'");
	cr_assert_eq(nlines(err), 2);

	c = load_ok("control_allow_groups = [ \"54321\" ];\n");
	cr_assert_eq(c->ncontrol_gids, 1);
	cr_assert_eq(c->control_gids[0], 54321);
	conf_unref(c);

	load_err("control_allow_groups = [ -1 ];\n", err, sizeof(err));
	has(err, ":1: control_allow_groups: bad id -1");
	load_err("control_allow_users = [ true ];\n", err, sizeof(err));
	has(err, ":1: control_allow_users: each entry must be a name or a "
		 "number");
}

Test(conf, exception_inherits_global_limits_and_overrides_its_own)
{
	/* exceptions before limits: the order of groups must not matter */
	struct conf *c = load_ok(
	    "exceptions = (\n"
	    "  { user = \"Newsletter@Example.ORG\";\n"
	    "    messages = { max = 5000; };\n"
	    "    recipients_per_message = 1000;\n"
	    "    senders = [ \"News@Example.org\", \"@Lists.Example.org\" ]; }\n"
	    ");\n"
	    "limits = {\n"
	    "  messages = { max = 80; window = \"2h\"; };\n"
	    "  recipients = { max = 250; window = \"3h\"; };\n"
	    "  recipients_per_message = 40;\n"
	    "  client_addresses = { max = 4; window = \"4h\"; };\n"
	    "  sender_mismatch = false;\n"
	    "};\n");
	const struct limits *l;
	char *const         *senders;
	size_t               n;

	cr_assert_eq(c->nexceptions, 1);
	cr_assert_str_eq(c->exceptions[0].user, "newsletter@example.org");
	l = conf_account(c, "newsletter@example.org", &senders, &n);
	cr_assert_eq(l, &c->exceptions[0].limits);
	cr_assert_eq(l->messages.max, 5000);
	cr_assert_eq(l->messages.window, 7200, "window inherited");
	cr_assert_eq(l->recipients.max, 250);
	cr_assert_eq(l->recipients.window, 10800);
	cr_assert_eq(l->recipients_per_message, 1000);
	cr_assert_eq(l->client_addresses.max, 4);
	cr_assert_eq(l->client_addresses.window, 14400);
	cr_assert_eq(l->sender_mismatch, 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(senders[0], "news@example.org");
	cr_assert_str_eq(senders[1], "@lists.example.org");

	l = conf_account(c, "alice@example.org", &senders, &n);
	cr_assert_eq(l, &c->limits);
	cr_assert_null(senders);
	cr_assert_eq(n, 0);
	cr_assert_eq(l->messages.max, 80);
	conf_unref(c);
}

Test(conf, allowed_senders_lose_their_tag_like_envelope_senders)
{
	struct conf *c =
	    load_ok("exceptions = ( { user = \"alice\";\n"
		    "  senders = [ \"Alice+Lists@Example.org\" ]; } );\n");

	cr_assert_str_eq(c->exceptions[0].user, "alice");
	cr_assert_str_eq(c->exceptions[0].senders[0], "alice@example.org");
	conf_unref(c);
	c = load_ok("addresses = { strip_tag = false; };\n"
		    "exceptions = ( { user = \"alice\";\n"
		    "  senders = [ \"alice+lists@example.org\" ]; } );\n");
	cr_assert_str_eq(
	    c->exceptions[0].senders[0], "alice+lists@example.org");
	conf_unref(c);
}

Test(conf, bad_exception_entries_are_reported_with_their_lines)
{
	char err[ERRLEN];

	load_err("exceptions = (\n"
		 "  { messages = { max = 5; }; },\n"
		 "  { user = \"bob@example.org\"; senders = [ \"bogus\" ]; },\n"
		 "  { user = \"carol@example.org\"; colour = \"red\"; },\n"
		 "  { user = \"a b@example.org\"; },\n"
		 "  \"dave\" );\n",
	    err, sizeof(err));
	has(err, "saslguard.conf:2: exceptions[0]: missing user");
	has(err, "saslguard.conf:3: exceptions[1].senders: 'bogus' is not an "
		 "address or \"@domain\"");
	has(err, "saslguard.conf:4: unknown key 'colour' in exceptions[2]");
	has(err, "saslguard.conf:5: exceptions[3].user: 'a b@example.org' is "
		 "not a valid account name");
	has(err, "saslguard.conf:6: exceptions[4] must be a group");
	cr_assert_eq(nlines(err), 5, "%s", err);
}

Test(conf, duplicate_exception_users_are_an_error)
{
	char err[ERRLEN];

	load_err("exceptions = (\n"
		 "  { user = \"news@example.org\"; },\n"
		 "  { user = \"bob@example.org\"; },\n"
		 "  { user = \"News@Example.ORG\"; }\n"
		 ");\n",
	    err, sizeof(err));
	has(err, "saslguard.conf:4: duplicate exception for user "
		 "'news@example.org' (first at line 2)");
	cr_assert_eq(nlines(err), 1);
}

Test(conf, account_lookup_finds_every_exception_among_many)
{
	char         text[64 * 1024], user[64];
	size_t       off = 0;
	struct conf *c;
	int          i, n;

	n = snprintf(text, sizeof(text), "exceptions = (\n");
	cr_assert(n > 0);
	off = (size_t) n;
	/* written in descending order: the loader sorts */
	for (i = 299; i >= 0; i--) {
		n = snprintf(text + off, sizeof(text) - off,
		    "{ user = \"u%03d@example.org\"; recipients_per_message = "
		    "%d; }%s\n",
		    i, i + 1, i > 0 ? "," : "");
		cr_assert(n > 0 && (size_t) n < sizeof(text) - off);
		off += (size_t) n;
	}
	n = snprintf(text + off, sizeof(text) - off, ");\n");
	cr_assert(n > 0 && (size_t) n < sizeof(text) - off);
	c = load_ok(text);
	cr_assert_eq(c->nexceptions, 300);
	for (i = 0; i < 300; i++) {
		(void) snprintf(user, sizeof(user), "u%03d@example.org", i);
		cr_assert_eq(
		    conf_account(c, user, NULL, NULL)->recipients_per_message,
		    (uint32_t) i + 1);
	}
	cr_assert_eq(
	    conf_account(c, "u300@example.org", NULL, NULL), &c->limits);
	cr_assert_eq(conf_account(c, "", NULL, NULL), &c->limits);
	cr_assert_eq(conf_account(c, NULL, NULL, NULL), &c->limits);
	conf_unref(c);
}

Test(conf, max_window_covers_global_and_exception_limits)
{
	struct conf *c = conf_default();

	cr_assert_eq(conf_max_window(c), 3600);
	conf_unref(c);
	c = load_ok("limits = { recipients = { window = \"6h\"; }; };\n");
	cr_assert_eq(conf_max_window(c), 6 * 3600);
	conf_unref(c);
	c = load_ok("exceptions = ( { user = \"x@example.org\";\n"
		    "  client_addresses = { window = \"2d\"; }; } );\n");
	cr_assert_eq(conf_max_window(c), 2 * 86400);
	conf_unref(c);
}

Test(conf, unknown_keys_are_reported_with_their_line)
{
	char err[ERRLEN];

	load_err("mode = \"enforce\";\n"
		 "\n"
		 "limts = { messages = { max = 1; }; };\n"
		 "limits = {\n"
		 "  mesages = { max = 1; };\n"
		 "  recipients = { max = 1; windows = \"1h\"; };\n"
		 "};\n",
	    err, sizeof(err));
	has(err, "saslguard.conf:3: unknown key 'limts'");
	has(err, "saslguard.conf:5: unknown key 'mesages' in limits");
	has(err,
	    "saslguard.conf:6: unknown key 'windows' in limits.recipients");
	cr_assert_eq(nlines(err), 3);
}

Test(conf, syntax_error_is_reported_with_its_line)
{
	char err[ERRLEN];

	load_err("mode = \"enforce\";\n"
		 "state_db = \"/var/lib/x.db\";\n"
		 "retention = ;\n"
		 "fail_action = \"accept\";\n",
	    err, sizeof(err));
	has(err, "saslguard.conf:3: ");
	cr_assert_eq(nlines(err), 1);
}

Test(conf, duplicate_key_is_a_syntax_error)
{
	char err[ERRLEN];

	load_err(
	    "mode = \"enforce\";\nmode = \"monitor\";\n", err, sizeof(err));
	has(err, "saslguard.conf:2: duplicate setting name");
}

Test(conf, several_errors_are_reported_together)
{
	char err[ERRLEN];

	load_err("mode = \"enforcing\";\n"
		 "retention = \"10x\";\n"
		 "state_db = \"state.db\";\n"
		 "addresses = { ipv6_prefix = 65; };\n"
		 "hold_queued_on_flag = \"yes\";\n",
	    err, sizeof(err));
	cr_assert_eq(nlines(err), 5, "%s", err);
	has(err, ":1: mode must be \"enforce\" or \"monitor\"");
	has(err, ":2: retention: bad duration \"10x\"");
	has(err, ":3: state_db must be an absolute path");
	has(err, ":4: addresses.ipv6_prefix must be between 0 and 64, not 65");
	has(err, ":5: hold_queued_on_flag must be true or false");
}

Test(conf, durations_accept_units_and_bare_seconds)
{
	uint32_t s = 0;

	cr_assert_eq(conf_parse_duration("30s", &s), 0);
	cr_assert_eq(s, 30);
	cr_assert_eq(conf_parse_duration("10m", &s), 0);
	cr_assert_eq(s, 600);
	cr_assert_eq(conf_parse_duration("1h", &s), 0);
	cr_assert_eq(s, 3600);
	cr_assert_eq(conf_parse_duration("2d", &s), 0);
	cr_assert_eq(s, 172800);
	cr_assert_eq(conf_parse_duration("1w", &s), 0);
	cr_assert_eq(s, 604800);
	cr_assert_eq(conf_parse_duration("45", &s), 0);
	cr_assert_eq(s, 45);
	cr_assert_eq(conf_parse_duration("0s", &s), 0);
	cr_assert_eq(s, 0);
	cr_assert_eq(conf_parse_duration("4294967295", &s), 0);
	cr_assert_eq(s, UINT32_MAX);
}

Test(conf, bad_durations_are_refused)
{
	static const char *const bad[] = { "10x", "-1s", "+1s", "", "s", "h1",
		"1 h", " 1h", "1h ", "1hh", "1.5h", "4294967296", "4294967296s",
		"99999999999999999999", "7102w", "49711d", "71582789m" };
	uint32_t                 s = 12345;
	size_t                   i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(
		    conf_parse_duration(bad[i], &s), -1, "'%s'", bad[i]);
		cr_assert_eq(s, 12345, "'%s' changed the output", bad[i]);
	}
	cr_assert_eq(conf_parse_duration(NULL, &s), -1);
}

Test(conf, bad_durations_in_the_file_are_reported)
{
	char err[ERRLEN];

	load_err(
	    "milter_timeout = \"-1s\";\n"
	    "retention = \"99999999999d\";\n"
	    "limits = { messages = { window = 0; };\n"
	    "  recipients = { window = \"31d\"; };\n"
	    "  client_addresses = { window = 1.5; }; };\n"
	    "on_flag = { command = [ \"/bin/true\" ]; timeout = \"2h\"; };\n",
	    err, sizeof(err));
	cr_assert_eq(nlines(err), 6, "%s", err);
	has(err, ":1: milter_timeout: bad duration \"-1s\"");
	has(err, ":2: retention: bad duration \"99999999999d\"");
	has(err, ":3: limits.messages.window must be between 1s and 30d");
	has(err, ":4: limits.recipients.window must be between 1s and 30d");
	has(err, ":5: limits.client_addresses.window must be a duration");
	has(err, ":6: on_flag.timeout must be between 1s and 1h");
}

Test(conf, window_limits_of_thirty_days_and_one_second_are_accepted)
{
	struct conf *c =
	    load_ok("limits = { messages = { window = \"30d\"; };\n"
		    "  recipients = { window = 1; }; };\n");

	cr_assert_eq(c->limits.messages.window, 30 * 86400);
	cr_assert_eq(c->limits.recipients.window, 1);
	conf_unref(c);
}

Test(conf, bad_enum_values_are_refused)
{
	char err[ERRLEN];

	load_err("mode = \"Enforce\";\n"
		 "flagged_action = \"reject\";\n"
		 "fail_action = \"hold\";\n"
		 "syslog_facility = \"kern\";\n"
		 "mode = 1;\n",
	    err, sizeof(err));
	/* the duplicate "mode" is a syntax error: libconfig stops there */
	has(err, ":5: duplicate setting name");
	load_err("mode = \"Enforce\";\n"
		 "flagged_action = \"reject\";\n"
		 "fail_action = \"hold\";\n"
		 "syslog_facility = \"kern\";\n",
	    err, sizeof(err));
	cr_assert_eq(nlines(err), 4, "%s", err);
	has(err, ":1: mode must be \"enforce\" or \"monitor\"");
	has(err, ":2: flagged_action must be \"hold\", \"tempfail\" or "
		 "\"disconnect\"");
	has(err, ":3: fail_action must be \"accept\" or \"tempfail\"");
	has(err, ":4: syslog_facility must be \"mail\"");
}

Test(conf, relative_paths_are_refused)
{
	char err[ERRLEN];

	load_err("state_db = \"var/state.db\";\n"
		 "control_socket = \"control.sock\";\n"
		 "postfix_config_directory = \"etc/postfix\";\n"
		 "postqueue = \"postqueue\";\n"
		 "postsuper = \"./postsuper\";\n"
		 "on_flag = { command = [ \"notify\", \"--flag\" ]; };\n"
		 "milter_socket = \"unix:run/milter.sock\";\n",
	    err, sizeof(err));
	cr_assert_eq(nlines(err), 7, "%s", err);
	has(err, ":1: state_db must be an absolute path, not \"var/state.db\"");
	has(err, ":2: control_socket must be an absolute path");
	has(err, ":3: postfix_config_directory must be an absolute path");
	has(err, ":4: postqueue must be an absolute path");
	has(err, ":5: postsuper must be an absolute path");
	has(err, ":6: on_flag.command[0] must be an absolute path");
	has(err, ":7: milter_socket must be \"unix:/absolute/path\"");
}

Test(conf, milter_socket_forms_are_checked)
{
	static const char *const good[] = { "unix:/run/x.sock", "local:/x",
		"/run/x.sock", "inet:8891", "inet:8891@localhost",
		"inet6:8891@[::1]" };
	static const char *const bad[] = { "unix:", "inet:", "inet:0",
		"inet:65536@h", "inet:8891@", "tcp:8891", "x.sock" };
	char                     text[256], err[ERRLEN];
	struct conf             *c;
	size_t                   i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		(void) snprintf(
		    text, sizeof(text), "milter_socket = \"%s\";\n", good[i]);
		c = load_ok(text);
		cr_assert_str_eq(c->milter_socket, good[i]);
		conf_unref(c);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void) snprintf(
		    text, sizeof(text), "milter_socket = \"%s\";\n", bad[i]);
		load_err(text, err, sizeof(err));
		has(err, ":1: milter_socket must be");
	}
}

Test(conf, prefix_lengths_are_range_checked)
{
	char         err[ERRLEN];
	struct conf *c;

	load_err("addresses = { ipv6_prefix = 65; ipv4_prefix = 33; };\n", err,
	    sizeof(err));
	has(err, ":1: addresses.ipv6_prefix must be between 0 and 64, not 65");
	has(err, ":1: addresses.ipv4_prefix must be between 0 and 32, not 33");
	load_err("addresses = { ipv4_prefix = -1; };\n", err, sizeof(err));
	has(err, "addresses.ipv4_prefix must be between 0 and 32, not -1");
	load_err("addresses = { ipv6_prefix = \"64\"; };\n", err, sizeof(err));
	has(err, "addresses.ipv6_prefix must be an integer");
	c = load_ok("addresses = { ipv6_prefix = 0; ipv4_prefix = 0; };\n");
	cr_assert_eq(c->ipv6_prefix, 0);
	cr_assert_eq(c->ipv4_prefix, 0);
	conf_unref(c);
}

Test(conf, client_address_limit_stays_below_the_set_capacity)
{
	char         err[ERRLEN];
	struct conf *c;

	load_err("limits = { client_addresses = { max = 64; }; };\n", err,
	    sizeof(err));
	has(err, ":1: limits.client_addresses.max must be between 0 and 63");
	load_err("exceptions = ( { user = \"a@b.example\";\n"
		 "  client_addresses = { max = 100; }; } );\n",
	    err, sizeof(err));
	has(err, ":2: exceptions[0].client_addresses.max must be between 0 "
		 "and 63");
	c = load_ok("limits = { client_addresses = { max = 63; }; };\n");
	cr_assert_eq(c->limits.client_addresses.max, 63);
	conf_unref(c);
}

Test(conf, socket_modes_are_octal_strings)
{
	char         err[ERRLEN];
	struct conf *c;

	c = load_ok("milter_socket_mode = \"660\";\n"
		    "control_socket_mode = \"0600\";\n");
	cr_assert_eq(c->milter_socket_mode, 0660);
	cr_assert_eq(c->control_socket_mode, 0600);
	conf_unref(c);
	/* an integer 0660 is decimal 660 to libconfig: refused */
	load_err("milter_socket_mode = 0660;\n"
		 "control_socket_mode = \"0680\";\n",
	    err, sizeof(err));
	has(err, ":1: milter_socket_mode must be an octal mode string such as "
		 "\"0660\"");
	has(err, ":2: control_socket_mode must be an octal mode string");
	load_err("control_socket_mode = \"4755\";\n", err, sizeof(err));
	has(err, ":1: control_socket_mode must be an octal mode string");
}

Test(conf, wrong_types_are_reported)
{
	char err[ERRLEN];

	load_err("state_db = 5;\n"
		 "limits = 100;\n"
		 "addresses = { strip_tag = 1; };\n"
		 "exceptions = { user = \"x\"; };\n"
		 "on_flag = { command = \"/bin/true\"; };\n"
		 "control_allow_users = \"root\";\n",
	    err, sizeof(err));
	cr_assert_eq(nlines(err), 6, "%s", err);
	has(err, ":1: state_db must be a string");
	has(err, ":2: limits must be a group");
	has(err, ":3: addresses.strip_tag must be true or false");
	has(err, ":4: exceptions must be a list");
	has(err, ":5: on_flag.command must be a list");
	has(err, ":6: control_allow_users must be a list");
}

Test(conf, on_flag_needs_a_command)
{
	char err[ERRLEN];

	load_err("on_flag = {\n  timeout = \"5s\";\n};\n", err, sizeof(err));
	has(err, ":1: on_flag: missing command");
	load_err("on_flag = { command = [ ]; };\n", err, sizeof(err));
	has(err, ":1: on_flag.command must be a list");
	load_err("on_flag = { command = ( \"/bin/echo\", 5 ); };\n", err,
	    sizeof(err));
	has(err, ":1: on_flag.command[1] must be a string");
}

Test(conf, redis_timeouts_are_milliseconds)
{
	struct conf *c;
	char         err[ERRLEN], host[256];

	c = load_ok("redis = { address = \"/run/redis/redis.sock\";\n"
		    "  connect_timeout = \"200ms\"; timeout = 2; };\n");
	cr_assert_str_eq(c->redis.address, "/run/redis/redis.sock");
	cr_assert_eq(c->redis.connect_timeout_ms, 200);
	cr_assert_eq(c->redis.timeout_ms, 2000);
	cr_assert_null(c->redis.password);
	cr_assert_str_eq(c->redis.prefix, "saslguard:");
	/* server_id defaults to the host name */
	cr_assert_eq(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	cr_assert_str_eq(c->redis.server_id, host);
	conf_unref(c);

	load_err("redis = { address = \"127.0.0.1:6379\";\n"
		 "  connect_timeout = \"0ms\";\n"
		 "  timeout = \"61s\";\n"
		 "  server_id = \"mx 1\"; };\n",
	    err, sizeof(err));
	cr_assert_eq(nlines(err), 3, "%s", err);
	has(err, ":2: redis.connect_timeout must be between 1ms and 60000ms");
	has(err, ":3: redis.timeout must be between 1ms and 60000ms");
	has(err, ":4: redis.server_id must be 1 to 64 letters");
	load_err("redis = { prefix = \"x:\"; timeout = \"5 ms\"; };\n", err,
	    sizeof(err));
	has(err, ":1: redis: missing address");
	has(err, ":1: redis.timeout: bad duration \"5 ms\"");
	load_err("redis = { address = \"127.0.0.1\"; };\n", err, sizeof(err));
	has(err, ":1: redis.address must be \"host:port\"");
}

Test(conf, missing_file_is_reported)
{
	struct conf *c = NULL;
	char         err[ERRLEN];

	cr_assert_eq(
	    conf_load("/nonexistent/saslguard.conf", &c, err, sizeof(err)), -1);
	cr_assert_null(c);
	has(err, "/nonexistent/saslguard.conf: cannot open: ");
}

Test(conf, include_is_relative_to_the_file)
{
	char         dir[64], path[128], inc[160];
	struct conf *c = NULL;
	char         err[ERRLEN];
	FILE        *fp;

	write_file("@include \"limits.conf\"\nmode = \"monitor\";\n",
	    "saslguard.conf", dir, sizeof(dir), path, sizeof(path));
	(void) snprintf(inc, sizeof(inc), "%s/limits.conf", dir);
	cr_assert_not_null(fp = fopen(inc, "w"));
	fputs("\nlimits = { messages = { max = 7; }; };\nlimts = 1;\n", fp);
	cr_assert_eq(fclose(fp), 0);
	cr_assert_eq(conf_load(path, &c, err, sizeof(err)), -1);
	/* the error names the included file and its line */
	has(err, "limits.conf:3: unknown key 'limts'");
	(void) unlink(inc);
	(void) unlink(path);
	(void) rmdir(dir);
}

Test(conf, small_error_buffer_is_truncated_and_terminated)
{
	struct conf *c = NULL;
	char         err[24];

	memset(err, 'x', sizeof(err));
	cr_assert_eq(
	    load("mode = \"a\";\nfail_action = \"b\";\n", &c, err, sizeof(err)),
	    -1);
	cr_assert_eq(strlen(err), sizeof(err) - 1);
	cr_assert_eq(load("mode = \"a\";\n", &c, NULL, 0), -1);
	cr_assert_null(c);
}

Test(conf, refcount_keeps_the_snapshot_until_the_last_unref)
{
	struct conf *c = load_ok(
	    "exceptions = ( { user = \"a@example.org\"; senders = [ \"@x.org\" "
	    "]; } );\n"
	    "on_flag = { command = [ \"/bin/true\", \"x\" ]; };\n"
	    "redis = { address = \"127.0.0.1:6379\"; password = \"p\"; };\n");

	cr_assert_eq(conf_ref(c), c);
	cr_assert_eq(c->refs, 2);
	conf_unref(c);
	cr_assert_eq(c->refs, 1);
	cr_assert_str_eq(c->exceptions[0].senders[0], "@x.org");
	conf_unref(c); /* frees: run under valgrind to see nothing leaks */
	conf_unref(NULL);
}

Test(conf, sample_configuration_is_valid_and_shows_the_defaults)
{
	char         path[4096], err[ERRLEN];
	struct conf *c = NULL, *d = conf_default();

	sample_path(path, sizeof(path));
	cr_assert_eq(conf_load(path, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(d);
	same_conf(c, d);
	conf_unref(c);
	conf_unref(d);
}

Test(conf, path_without_a_directory_is_read_from_the_working_directory)
{
	struct conf *c = NULL;
	char dir[64], path[128], err[ERRLEN], cwd[4096];

	write_file("mode = \"monitor\";\n", "rel.conf", dir, sizeof(dir), path,
	    sizeof(path));
	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	cr_assert_eq(chdir(dir), 0);
	cr_assert_eq(conf_load("rel.conf", &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c->mode, MODE_MONITOR);
	conf_unref(c);
	cr_assert_eq(chdir(cwd), 0);
	(void) unlink(path);
	(void) rmdir(dir);
}
