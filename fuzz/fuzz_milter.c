/*
 * fuzz_milter.c - libFuzzer target: what the milter takes from the SMTP
 * peer - addresses, logins, client addresses, escaped log values
 *
 * Input layout: byte 0 and 1 choose the IPv4 and IPv6 prefix lengths
 * (out-of-range ones included, which must be refused), byte 2 the size of
 * a deliberately small escape buffer; the rest is split at '\n' into
 * strings: the first is used as an address, a login, a client address
 * and a log value, the second as MAIL FROM's argument and the login of
 * addr_sender_belongs(), the others as its allowed senders.  The same
 * bytes also fill a sockaddr for session_set_client().
 *
 * Properties checked besides "no crash": the canonical form is a fixed
 * point of addr_canon(); escape_value() and unescape_value() are inverse
 * and a truncated escape never ends inside "%XX"; a key from netaddr_key()
 * always formats; a session's login and sender fields stay bounded and
 * agree with addr_canon().  The session uses conf_default().
 *
 * Thread safety: single-threaded fuzz target.
 * Tests: fuzz/run (fuzzing), fuzz/run --regress (replay of the corpus).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conf.h"
#include "escape.h"
#include "netaddr.h"
#include "session.h"

#define MAX_STRINGS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct conf *defconf; /* conf_default(), made once */

/* check - abort with a message when a property fails */
static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_milter: %s\n", what);
		abort();
	}
}

/* fuzz_addr - canonical form, its fixed point, and the sender check */
static void
fuzz_addr(char *const *str, size_t nstr)
{
	char        a[ADDR_MAX + 1], b[ADDR_MAX + 1], again[ADDR_MAX + 1];
	const char *delims[] = { NULL, "+", "+-" };
	size_t      i;

	(void) addr_valid_user(str[0]);
	for (i = 0; i < sizeof(delims) / sizeof(delims[0]); i++) {
		if (addr_canon(str[0], delims[i], a, sizeof(a)) == -1)
			continue;
		check(strlen(a) <= ADDR_MAX, "canonical address too long");
		check(addr_canon(a, delims[i], again, sizeof(again)) == 0 &&
			  strcmp(a, again) == 0,
		    "canonical form is not a fixed point");
		(void) addr_domain(a);
		if (nstr > 1 &&
		    addr_canon(str[1], delims[i], b, sizeof(b)) == 0)
			(void) addr_sender_belongs(a, b, str + 2, nstr - 2);
		(void) addr_sender_belongs(
		    a, str[nstr > 1 ? 1 : 0], str + 1, nstr - 1);
	}
}

/* fuzz_escape - escape and unescape are inverse; cuts are clean */
static void
fuzz_escape(const char *s, size_t small)
{
	char  *esc, *back, cut[16];
	size_t n, len = strlen(s);
	int    m;

	if ((esc = malloc(3 * len + 1)) == NULL ||
	    (back = malloc(len + 1)) == NULL) {
		free(esc);
		return;
	}
	n = escape_value(esc, 3 * len + 1, s);
	check(n <= 3 * len && strlen(esc) == n, "escape length wrong");
	m = unescape_value(back, len + 1, esc);
	check(m >= 0 && (size_t) m == len && memcmp(back, s, len) == 0,
	    "unescape(escape(s)) != s");

	small %= sizeof(cut);
	if (small > 0) {
		(void) escape_value(cut, small, s);
		check(strlen(cut) < small, "escape overran a small buffer");
		check(unescape_value(back, len + 1, cut) >= 0,
		    "truncated escape ends inside %XX");
	}

	/* raw input as an escaped value */
	if ((m = unescape_value(back, len + 1, s)) >= 0) {
		check((size_t) m <= len, "unescape grew");
		back[m] = '\0';
	}
	free(esc);
	free(back);
}

/* fuzz_net - client address to network key and back to text */
static void
fuzz_net(const char *s, int v4, int v6)
{
	uint64_t key;
	char     buf[64];

	if (netaddr_key(s, v4, v6, &key) == 0) {
		check(v4 >= 0 && v4 <= 32 && v6 >= 0 && v6 <= 64,
		    "prefix out of range accepted");
		check(netaddr_format(key, v4, v6, buf, sizeof(buf)) == 0,
		    "a key from netaddr_key does not format");
	}
}

/* fuzz_session - login, sender and client as the callbacks set them */
static void
fuzz_session(char *const *str, size_t nstr, const uint8_t *data, size_t size)
{
	struct session     *s;
	struct sockaddr_in6 sin6;
	struct sockaddr_in  sin;
	char                canon[ADDR_MAX + 1];
	const char         *arg = str[nstr > 1 ? 1 : 0];
	size_t              i;
	int                 ok;

	if ((s = session_create(defconf)) == NULL)
		return;
	if (session_set_login(s, str[0]) == 0) {
		check(strlen(s->user) <= ADDR_MAX, "login too long");
		for (i = 0; s->user[i] != '\0'; i++)
			check(!(s->user[i] >= 'A' && s->user[i] <= 'Z') &&
				  (unsigned char) s->user[i] > 0x20 &&
				  s->user[i] != 0x7f,
			    "login not canonical");
	}
	session_set_sender(s, arg);
	check(strlen(s->sender_raw) <= ADDR_MAX, "raw sender too long");
	ok = addr_canon(arg,
		 defconf->strip_tag ? defconf->recipient_delimiter : NULL,
		 canon, sizeof(canon)) == 0;
	check(ok == s->sender_ok, "sender_ok disagrees with addr_canon");
	check(!ok || strcmp(canon, s->sender) == 0,
	    "sender disagrees with addr_canon");

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	sin.sin_family = AF_INET;
	sin6.sin6_family = AF_INET6;
	memcpy(&sin.sin_addr, data, size < 4 ? size : 4);
	memcpy(&sin6.sin6_addr, data, size < 16 ? size : 16);
	session_set_client(s, (const struct sockaddr *) &sin);
	check(!s->have_net || s->client[0] != '\0', "net without client");
	session_set_client(s, (const struct sockaddr *) &sin6);
	check(!s->have_net || s->client[0] != '\0', "net without client");
	session_reset(s);
	session_destroy(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char  *buf, *str[MAX_STRINGS], *p, *nl;
	size_t nstr = 0;
	int    v4, v6;
	size_t small;

	if (size < 3 || size > 4096)
		return 0;
	if (defconf == NULL && (defconf = conf_default()) == NULL)
		abort();
	/* prefixes -4..35 and -4..67: mostly valid, some not */
	v4 = (int) (data[0] % 40) - 4;
	v6 = (int) (data[1] % 72) - 4;
	small = data[2];
	data += 3;
	size -= 3;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (p = buf; nstr < MAX_STRINGS; p = nl + 1) {
		str[nstr++] = p;
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
	}

	fuzz_addr(str, nstr);
	fuzz_escape(str[0], small);
	fuzz_net(str[0], v4, v6);
	fuzz_session(str, nstr, data, size);
	free(buf);
	return 0;
}
