/*
 * noop_connect.c - the cheapest libmilter filter: accept at connect
 *
 * The floor for any filter: libmilter's connection handling, option
 * negotiation and one reply.  After SMFIS_ACCEPT in connect the MTA sends
 * this filter nothing more for the session but quit.
 *
 * Usage: noop_connect -p SOCKET   (runs in the foreground; the socket of a
 * unix: address is made mode 0666)
 *
 * Thread safety: no state.
 * Tests: none; it is measured by bench/run.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mfapi.h"

/* nc_connect - accept the whole session */
static sfsistat
nc_connect(SMFICTX *ctx, char *hostname, struct sockaddr *hostaddr)
{
	(void) ctx;
	(void) hostname;
	(void) hostaddr;
	return SMFIS_ACCEPT;
}

static struct smfiDesc desc = {
	.xxfi_name = "noop_connect",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = 0,
	.xxfi_connect = nc_connect,
};

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

int
main(int argc, char **argv)
{
	const char *sock = NULL;
	int         ch;

	while ((ch = getopt(argc, argv, "p:")) != -1) {
		switch (ch) {
		case 'p':
			sock = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (sock == NULL || optind != argc)
		goto usage;
	if (smfi_register(desc) == MI_FAILURE) {
		fputs("noop_connect: smfi_register failed\n", stderr);
		return 1;
	}
	if (open_socket(sock) == -1) {
		fprintf(stderr, "noop_connect: cannot open %s\n", sock);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
usage:
	fputs("usage: noop_connect -p SOCKET\n", stderr);
	return 2;
}
