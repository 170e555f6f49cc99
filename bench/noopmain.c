/*
 * noopmain.c - the main() the no-op filters share
 *
 * Why "-s": libmilter starts a thread per connection with default
 * attributes; with 8 MB stacks glibc keeps only five freed ones, and a
 * filter under load maps, faults in and unmaps a stack for nearly every
 * connection.  saslguard sets a 1 MB default (milter/main.c); bench/run
 * gives the no-op filters the same, so that they stay the floor.
 *
 * Thread safety: see noopmain.h.
 * Tests: none; it is measured by bench/run.
 */
#include <sys/stat.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "noopmain.h"

/* open_socket - create the listening socket and open its mode */
static int
open_socket(const char *spec)
{
	const char *path = NULL;

	if (smfi_setconn((char *) spec) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE)
		return -1;
	if (strncmp(spec, "unix:", 5) == 0)
		path = spec + 5;
	else if (strncmp(spec, "local:", 6) == 0)
		path = spec + 6;
	else if (spec[0] == '/')
		path = spec;
	if (path != NULL && chmod(path, 0666) == -1) {
		perror(path);
		return -1;
	}
	return 0;
}

/* stack_kb - make kb KiB the default thread stack size */
static int
stack_kb(const char *kb)
{
	pthread_attr_t a;
	char          *end;
	long           n = strtol(kb, &end, 10);
	int            rc;

	if (*kb == '\0' || *end != '\0' || n < 64 || n > 1024 * 1024)
		return -1;
	if (pthread_attr_init(&a) != 0)
		return -1;
	rc = pthread_attr_setstacksize(&a, (size_t) n * 1024) == 0 &&
		     pthread_setattr_default_np(&a) == 0
		 ? 0
		 : -1;
	pthread_attr_destroy(&a);
	return rc;
}

int
noop_main(int argc, char **argv, struct smfiDesc *desc, const char *extra,
    void (*opt)(int ch))
{
	const char *sock = NULL;
	char        opts[32];
	int         ch;

	snprintf(opts, sizeof(opts), "p:s:%s", extra != NULL ? extra : "");
	while ((ch = getopt(argc, argv, opts)) != -1) {
		switch (ch) {
		case 'p':
			sock = optarg;
			break;
		case 's':
			if (stack_kb(optarg) == -1) {
				fprintf(stderr, "%s: bad stack size %s\n",
				    desc->xxfi_name, optarg);
				return 2;
			}
			break;
		case '?':
			goto usage;
		default:
			if (opt == NULL)
				goto usage;
			opt(ch);
			break;
		}
	}
	if (sock == NULL || optind != argc)
		goto usage;
	if (smfi_register(*desc) == MI_FAILURE) {
		fprintf(stderr, "%s: smfi_register failed\n", desc->xxfi_name);
		return 1;
	}
	if (open_socket(sock) == -1) {
		fprintf(stderr, "%s: cannot open %s\n", desc->xxfi_name, sock);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
usage:
	fprintf(stderr, "usage: %s%s%s%s -p SOCKET [-s STACK_KB]\n",
	    desc->xxfi_name, extra != NULL ? " [-" : "",
	    extra != NULL ? extra : "", extra != NULL ? "]" : "");
	return 2;
}
