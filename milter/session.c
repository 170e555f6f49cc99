/*
 * session.c - per-connection and per-message state of one SMTP session
 *
 * Sessions are recycled through a small free list instead of malloc/free:
 * libmilter runs each connection in a thread of its own, a session is a
 * few kilobytes (a large-bin request, which makes malloc consolidate its
 * fast bins), and a new thread starts with an empty cache.  The list
 * holds at most SESSION_POOL_MAX sessions, about as many as connections
 * run at once.
 *
 * Thread safety: see session.h.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "netaddr.h"
#include "session.h"

#define SESSION_POOL_MAX 64

/* the free sessions, most recently freed last */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct session *pool[SESSION_POOL_MAX];
static size_t npool;

/* session_create - a session pinning c */
struct session *
session_create(struct conf *c)
{
	struct session *s = NULL;

	pthread_mutex_lock(&pool_lock);
	if (npool > 0)
		s = pool[--npool];
	pthread_mutex_unlock(&pool_lock);
	if (s == NULL && (s = malloc(sizeof(*s))) == NULL)
		return NULL;
	s->conf = conf_ref(c);
	s->client[0] = '\0';
	s->have_net = 0;
	s->net = 0;
	s->conn_client[0] = '\0';
	s->conn_have_net = 0;
	s->conn_net = 0;
	s->webmail = 0;
	s->noreply = 0;
	session_reset(s);
	return s;
}

/* session_destroy - free s and unpin its conf */
void
session_destroy(struct session *s)
{
	if (s == NULL)
		return;
	conf_unref(s->conf);
	s->conf = NULL;
	pthread_mutex_lock(&pool_lock);
	if (npool < SESSION_POOL_MAX) {
		pool[npool++] = s;
		s = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
	free(s);
}

/* session_reset - forget the current message */
void
session_reset(struct session *s)
{
	/* a webmail user's address lasts for one message */
	memcpy(s->client, s->conn_client, sizeof(s->client));
	s->net = s->conn_net;
	s->have_net = s->conn_have_net;
	s->auth = 0;
	s->mail_at = 0;
	s->user[0] = '\0';
	s->sender[0] = '\0';
	s->sender_raw[0] = '\0';
	s->sender_ok = 0;
	s->nrcpt = 0;
}

/* session_set_client - record the client address */
void
session_set_client(struct session *s, const struct sockaddr *sa)
{
	s->client[0] = '\0';
	s->have_net = 0;
	if (netaddr_ntop(sa, s->client, sizeof(s->client)) == -1) {
		s->client[0] = '\0';
		return;
	}
	s->have_net = netaddr_key_sa(sa, s->conf->ipv4_prefix,
	    s->conf->ipv6_prefix, &s->net) == 0;
	memcpy(s->conn_client, s->client, sizeof(s->conn_client));
	s->conn_net = s->net;
	s->conn_have_net = s->have_net;
	s->webmail = s->conf->nwebmail_hosts > 0 &&
	    conf_webmail_host(s->conf, s->client);
}

/* session_set_origin - the user's own address, from a webmail header */
int
session_set_origin(struct session *s, const char *value)
{
	char buf[SESSION_CLIENT_MAX], txt[SESSION_CLIENT_MAX];
	unsigned char bin[16];
	size_t n;
	int af;

	while (*value == ' ' || *value == '\t')
		value++;
	if (*value == '[')
		value++;
	if (strncasecmp(value, "IPv6:", 5) == 0)
		value += 5;
	for (n = 0; n < sizeof(buf) - 1 && value[n] != '\0' &&
	     value[n] != ']' && value[n] != ' ' && value[n] != ',' &&
	     value[n] != '\t' && value[n] != '\r' && value[n] != '\n'; n++)
		buf[n] = value[n];
	buf[n] = '\0';
	af = strchr(buf, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(af, buf, bin) != 1 ||
	    inet_ntop(af, bin, txt, sizeof(txt)) == NULL ||
	    netaddr_key(txt, s->conf->ipv4_prefix, s->conf->ipv6_prefix,
	    &s->net) == -1)
		return -1;
	memcpy(s->client, txt, sizeof(s->client));
	s->have_net = 1;
	return 0;
}

/* session_set_login - canonical login from {auth_authen} */
int
session_set_login(struct session *s, const char *authen)
{
	size_t i;

	for (i = 0; authen[i] != '\0'; i++) {
		unsigned char ch = (unsigned char) authen[i];

		if (i >= ADDR_MAX || ch <= 0x20 || ch == 0x7f)
			return -1;
		s->user[i] = (ch >= 'A' && ch <= 'Z') ? (char) (ch + 32) : (char) ch;
	}
	if (i == 0)
		return -1;
	s->user[i] = '\0';
	return 0;
}

/* session_set_sender - sender from MAIL FROM's first argument */
void
session_set_sender(struct session *s, const char *arg)
{
	const char *in = arg;
	size_t n;

	n = strlen(in);
	if (n >= 2 && in[0] == '<' && in[n - 1] == '>') {
		in++;
		n -= 2;
	}
	if (n > ADDR_MAX)
		n = ADDR_MAX;
	memcpy(s->sender_raw, in, n);
	s->sender_raw[n] = '\0';
	s->sender_ok = addr_canon(arg, s->conf->strip_tag ?
	    s->conf->recipient_delimiter : NULL, s->sender,
	    sizeof(s->sender)) == 0;
	if (!s->sender_ok)
		s->sender[0] = '\0';
}
