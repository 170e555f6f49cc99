/*
 * noop_events.c - a filter that sees what saslguard sees and decides nothing
 *
 * It registers the callbacks saslguard registers (connect, helo, envfrom,
 * envrcpt, data, eoh, eom, abort, close; no header or body: it negotiates
 * SMFIP_NOHDRS, SMFIP_NOBODY and SMFIP_NOUNKNOWN), asks for the same
 * macros with smfi_setsymlist, keeps per-connection state in smfi_setpriv
 * (allocated in connect, freed in close), copies the macros it reads, and
 * answers continue to every event: the floor for any filter that must see
 * what saslguard sees.
 *
 * With -l ("lean") it negotiates exactly what saslguard negotiates: no
 * helo, data or end-of-headers step, no reply to connect and recipients
 * (SMFIP_NR_CONN, SMFIP_NR_RCPT), macros j, {auth_authen}, j and i; the
 * client address comes from the connect arguments.  That is the floor for
 * saslguard's own choice of events.
 *
 * Usage: noop_events [-l] -p SOCKET [-s STACK_KB]   (runs in the
 * foreground; the socket of a unix: address is made mode 0666; noopmain.c)
 *
 * Thread safety: state is per connection only; "lean" is set before
 * smfi_main() starts any thread and only read afterwards.
 * Tests: none; it is measured by bench/run.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "noopmain.h"

/* the SMFIP_NR_* steps of lean mode, and the flags asked for in each mode */
#define LEAN_NOREPLY (SMFIP_NR_CONN | SMFIP_NR_RCPT)
#define LEAN_SKIP                                                              \
	(SMFIP_NOHELO | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY |            \
	    SMFIP_NOUNKNOWN | SMFIP_NODATA)
#define FULL_SKIP (SMFIP_NOHDRS | SMFIP_NOBODY | SMFIP_NOUNKNOWN)

static int lean; /* -l: negotiate like saslguard */

struct conn {
	char    *client_addr; /* owned; {client_addr} at connect */
	char    *login;       /* owned; {auth_authen} at MAIL, NULL = none */
	char    *auth_type;   /* owned */
	char    *sender;      /* owned; {mail_addr} */
	char    *queue_id;    /* owned; i at end of message */
	unsigned rcpts;       /* recipients of the current message */
	unsigned messages;    /* messages seen on the connection */
};

/* copy - replace *dst with a copy of a macro value (NULL stays NULL) */
static int
copy(char **dst, const char *src)
{
	free(*dst);
	*dst = NULL;
	if (src != NULL && (*dst = strdup(src)) == NULL)
		return -1;
	return 0;
}

/* msg_reset - forget the current message; shared by eom and abort */
static void
msg_reset(struct conn *c)
{
	copy(&c->login, NULL);
	copy(&c->auth_type, NULL);
	copy(&c->sender, NULL);
	copy(&c->queue_id, NULL);
	c->rcpts = 0;
}

/* ask_macros - the macro lists of the mode; 0 or -1 */
static int
ask_macros(SMFICTX *ctx)
{
	if (lean)
		return smfi_setsymlist(ctx, SMFIM_CONNECT, "j") == MI_SUCCESS &&
			       smfi_setsymlist(ctx, SMFIM_ENVFROM,
				   "{auth_authen}") == MI_SUCCESS &&
			       smfi_setsymlist(ctx, SMFIM_ENVRCPT, "j") ==
				   MI_SUCCESS &&
			       smfi_setsymlist(ctx, SMFIM_EOM, "i") ==
				   MI_SUCCESS
			   ? 0
			   : -1;
	return smfi_setsymlist(ctx, SMFIM_CONNECT, "{client_addr}") ==
			   MI_SUCCESS &&
		       smfi_setsymlist(ctx, SMFIM_ENVFROM,
			   "{auth_authen} {auth_type} {mail_addr}") ==
			   MI_SUCCESS &&
		       smfi_setsymlist(ctx, SMFIM_EOM, "i {auth_authen}") ==
			   MI_SUCCESS
		   ? 0
		   : -1;
}

/* ne_negotiate - skip what the mode does not need; ask for macros */
static sfsistat
ne_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *pf0, unsigned long *pf1,
    unsigned long *pf2, unsigned long *pf3)
{
	(void) f2;
	(void) f3;
	*pf0 = f0 & (SMFIF_QUARANTINE | SMFIF_SETSYMLIST);
	*pf1 = f1 & (lean ? LEAN_SKIP | LEAN_NOREPLY : FULL_SKIP);
	*pf2 = 0;
	*pf3 = 0;
	if ((f0 & SMFIF_SETSYMLIST) != 0 && ask_macros(ctx) == -1)
		return SMFIS_REJECT;
	return SMFIS_CONTINUE;
}

/* client_addr - the connect address as text, into buf */
static const char *
client_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *a;

	if (sa == NULL)
		return NULL;
	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *) (const void *) sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *) (const void *) sa)
			 ->sin6_addr;
	else
		return NULL;
	return inet_ntop(sa->sa_family, a, buf, (socklen_t) len);
}

/* reply - continue, or no reply where the mode negotiated none */
static sfsistat
reply(unsigned long nr_flag)
{
	return lean && (LEAN_NOREPLY & nr_flag) ? SMFIS_NOREPLY
						: SMFIS_CONTINUE;
}

/* ne_connect - allocate the connection state */
static sfsistat
ne_connect(SMFICTX *ctx, char *hostname, struct sockaddr *hostaddr)
{
	struct conn *c;
	const char  *addr;
	char         buf[64];

	(void) hostname;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SMFIS_TEMPFAIL;
	addr = lean ? client_addr(hostaddr, buf, sizeof(buf))
		    : smfi_getsymval(ctx, "{client_addr}");
	if (copy(&c->client_addr, addr) == -1) {
		free(c);
		return SMFIS_TEMPFAIL;
	}
	smfi_setpriv(ctx, c);
	return reply(SMFIP_NR_CONN);
}

/* ne_helo - nothing to learn */
static sfsistat
ne_helo(SMFICTX *ctx, char *helo)
{
	(void) ctx;
	(void) helo;
	return SMFIS_CONTINUE;
}

/* ne_envfrom - copy the login, its mechanism and the sender */
static sfsistat
ne_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	msg_reset(c);
	if (copy(&c->login, smfi_getsymval(ctx, "{auth_authen}")) == -1 ||
	    copy(&c->auth_type, smfi_getsymval(ctx, "{auth_type}")) == -1 ||
	    copy(&c->sender,
		lean ? argv[0] : smfi_getsymval(ctx, "{mail_addr}")) == -1)
		return SMFIS_TEMPFAIL;
	return SMFIS_CONTINUE;
}

/* ne_envrcpt - count recipients */
static sfsistat
ne_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);

	(void) argv;
	if (c != NULL)
		c->rcpts++;
	return reply(SMFIP_NR_RCPT);
}

/* ne_data - nothing to learn */
static sfsistat
ne_data(SMFICTX *ctx)
{
	(void) ctx;
	return SMFIS_CONTINUE;
}

/* ne_eoh - nothing to learn */
static sfsistat
ne_eoh(SMFICTX *ctx)
{
	(void) ctx;
	return SMFIS_CONTINUE;
}

/* ne_eom - copy the queue ID, then forget the message */
static sfsistat
ne_eom(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	if (copy(&c->queue_id, smfi_getsymval(ctx, "i")) == -1)
		return SMFIS_TEMPFAIL;
	c->messages++;
	msg_reset(c);
	return SMFIS_CONTINUE;
}

/* ne_abort - forget the message */
static sfsistat
ne_abort(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		msg_reset(c);
	return SMFIS_CONTINUE;
}

/* ne_close - free the connection state */
static sfsistat
ne_close(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		msg_reset(c);
		free(c->client_addr);
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = "noop_events",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_QUARANTINE | SMFIF_SETSYMLIST,
	.xxfi_connect = ne_connect,
	.xxfi_helo = ne_helo,
	.xxfi_envfrom = ne_envfrom,
	.xxfi_envrcpt = ne_envrcpt,
	.xxfi_eom = ne_eom,
	.xxfi_abort = ne_abort,
	.xxfi_close = ne_close,
	.xxfi_data = ne_data,
	.xxfi_negotiate = ne_negotiate,
	.xxfi_eoh = ne_eoh,
};

/* on_opt - the filter's own flag: -l, lean */
static void
on_opt(int ch)
{
	if (ch == 'l')
		lean = 1;
}

int
main(int argc, char **argv)
{
	return noop_main(argc, argv, &desc, "l", on_opt);
}
