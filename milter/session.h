/*
 * session.h - per-connection and per-message state of one SMTP session
 *
 * Created in the connect callback and kept with smfi_setpriv(); freed in
 * close.  The message part is reset by session_reset() at MAIL FROM and in
 * abort.  Every string copied in from libmilter has been validated and is
 * bounded; values are copied because smfi_getsymval() results are
 * volatile.
 *
 * Thread safety: a session belongs to the one libmilter thread serving its
 * connection.
 */
#ifndef SASLGUARD_SESSION_H
#define SASLGUARD_SESSION_H

#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "conf.h"
#include "signals.h"

#define SESSION_CLIENT_MAX 64

struct session {
	struct conf *conf;		/* pinned at connect; conf_unref in close */
	char     client[SESSION_CLIENT_MAX];	/* printable client address */
	uint64_t net;			/* client network key */
	int      have_net;
	char     conn_client[SESSION_CLIENT_MAX];	/* the SMTP client itself */
	uint64_t conn_net;
	int      conn_have_net;
	int      webmail;		/* the client is a webmail host */
	unsigned noreply;		/* SMFIP_NR_* steps negotiated */

	/* the message; reset by session_reset() */
	int      auth;			/* 1: authenticated transaction */
	time_t   mail_at;		/* MAIL FROM (Postfix's arrival time) */
	char     user[ADDR_MAX + 1];	/* canonical login */
	char     sender[ADDR_MAX + 1];	/* canonical sender; "" null sender */
	int      sender_ok;		/* sender passed validation */
	char     sender_raw[ADDR_MAX + 1];	/* as given, for logs */
	uint32_t nrcpt;
	struct signals_msg sig;		/* reset by the callbacks */
};

/* session_create - a session pinning c (takes its own reference); NULL on ENOMEM */
struct session *session_create(struct conf *c);

/* session_destroy - free s and unpin its conf; accepts NULL */
void	session_destroy(struct session *s);

/* session_reset - forget the current message */
void	session_reset(struct session *s);

/*
 * session_set_client - record the client address from the connect
 * callback's sockaddr (NULL when unknown: no network is counted)
 */
void	session_set_client(struct session *s, const struct sockaddr *sa);

/*
 * session_set_login - canonical login from {auth_authen}
 *
 * Lower-cases it; refuses (returns -1) an empty, over-long login or one
 * with control characters or spaces.
 */
int	session_set_login(struct session *s, const char *authen);

/*
 * session_set_origin - the user's own address, from a webmail host's
 * header, for the current message; 0, or -1 when value is no address
 */
int	session_set_origin(struct session *s, const char *value);

/* session_set_sender - sender from MAIL FROM's first argument */
void	session_set_sender(struct session *s, const char *arg);

#endif
