/*
 * noop_connect.c - the cheapest libmilter filter: accept at connect
 *
 * The floor for any filter: libmilter's connection handling, option
 * negotiation and one reply.  After SMFIS_ACCEPT in connect the MTA sends
 * this filter nothing more for the session but quit.
 *
 * Usage: noop_connect -p SOCKET [-s STACK_KB]   (runs in the foreground;
 * the socket of a unix: address is made mode 0666; noopmain.c)
 *
 * Thread safety: no state.
 * Tests: none; it is measured by bench/run.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>

#include "noopmain.h"

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

int
main(int argc, char **argv)
{
	return noop_main(argc, argv, &desc, NULL, NULL);
}
