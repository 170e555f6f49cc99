/*
 * fuzz_ctlproto.c - libFuzzer target: the control protocol's parsers
 *
 * Runs every parser of ctlproto.h on the input (ctlproto_fuzz), then
 * checks two round trips: a request that parses is formatted again and
 * must parse to the same command and arguments; a reply line that parses
 * is rebuilt with the line builders and must parse to the same fields.
 * A mismatch aborts, which libFuzzer reports like a crash.
 *
 * Thread safety: single-threaded fuzz target.
 * Tests: fuzz/run (fuzzing), fuzz/run --regress (replay of the corpus).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check - abort with a message when a round-trip property fails */
static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_ctlproto: %s\n", what);
		abort();
	}
}

/* request_roundtrip - format a parsed request and parse it again */
static void
request_roundtrip(const struct ctl_request *r)
{
	struct ctl_request again;
	const char        *argv[CTL_ARGS_MAX];
	char               line[CTL_LINE_MAX + 1], err[128];
	int                i, n;

	for (i = 0; i < r->argc; i++)
		argv[i] = r->argv[i];
	n = ctl_request_format(line, sizeof(line), r->cmd, r->argc, argv);
	if (n == -1)
		return; /* escaping made it longer than a line */
	check(
	    ctl_request_parse(line, (size_t) n, &again, err, sizeof(err)) == 0,
	    "formatted request does not parse");
	check(strcmp(again.cmd, r->cmd) == 0, "request command changed");
	check(again.argc == r->argc, "request argument count changed");
	for (i = 0; i < r->argc; i++)
		check(strcmp(again.argv[i], r->argv[i]) == 0,
		    "request argument changed");
}

/* reply_roundtrip - rebuild a parsed reply line and parse it again */
static void
reply_roundtrip(const struct ctl_reply *r, size_t insize)
{
	struct ctl_reply again;
	struct ctl_line  l;
	const char      *text;
	char             err[128];
	size_t           len;
	int              i;

	if (r->kind == CTL_ERR) {
		text = ctl_line_err(&l, r->code, r->message, &len);
		check(ctl_reply_parse(text, len, &again, err, sizeof(err)) == 0,
		    "err line from ctl_line_err does not parse");
		check(again.kind == CTL_ERR, "err line changed kind");
		check(strcmp(again.code, r->code) == 0, "err code changed");
		/* a long message may be cut; compare only short ones */
		if (insize < CTL_REPLY_MAX / 4)
			check(strcmp(again.message, r->message) == 0,
			    "err message changed");
		return;
	}
	ctl_line_init(&l, r->kind);
	for (i = 0; i < r->npairs; i++)
		(void) ctl_line_add_str(&l, r->pair[i].key, r->pair[i].value);
	if ((text = ctl_line_end(&l, &len)) == NULL)
		return; /* did not fit after re-escaping */
	check(ctl_reply_parse(text, len, &again, err, sizeof(err)) == 0,
	    "rebuilt reply does not parse");
	check(again.kind == r->kind, "reply kind changed");
	check(again.npairs == r->npairs, "reply pair count changed");
	for (i = 0; i < r->npairs; i++) {
		check(strcmp(again.pair[i].key, r->pair[i].key) == 0,
		    "reply key changed");
		check(strcmp(again.pair[i].value, r->pair[i].value) == 0,
		    "reply value changed");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_request *req;
	struct ctl_reply   *rep;
	const char         *s = (const char *) data;
	char                err[128];

	(void) ctlproto_fuzz(data, size);

	/* the structs are large: keep them off the stack */
	if ((req = malloc(sizeof(*req))) == NULL ||
	    (rep = malloc(sizeof(*rep))) == NULL) {
		free(req);
		return 0;
	}
	if (ctl_request_parse(s, size, req, err, sizeof(err)) == 0)
		request_roundtrip(req);
	if (ctl_reply_parse(s, size, rep, err, sizeof(err)) == 0)
		reply_roundtrip(rep, size);
	free(req);
	free(rep);
	return 0;
}
