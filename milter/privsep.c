/*
 * privsep.c - give up root for good
 *
 * Thread safety: see privsep.h.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "privsep.h"

/* own - chown path to uid/gid when it exists */
static int
own(const char *path, const char *suffix, uid_t uid, gid_t gid, char *err,
    size_t len)
{
	char p[4096];

	if (snprintf(p, sizeof(p), "%s%s", path, suffix) >= (int) sizeof(p)) {
		snprintf(err, len, "%s: path too long", path);
		return -1;
	}
	if (chown(p, uid, gid) == -1 && errno != ENOENT) {
		snprintf(err, len, "chown %s: %s", p, strerror(errno));
		return -1;
	}
	return 0;
}

/* privsep_drop - become c->user */
int
privsep_drop(const struct conf *c, char *err, size_t len)
{
	struct passwd *pw;

	if (c->user == NULL)
		return 0;
	if ((pw = getpwnam(c->user)) == NULL) {
		snprintf(err, len, "user %s: no such user", c->user);
		return -1;
	}
	if (own(c->state_db, "", pw->pw_uid, pw->pw_gid, err, len) == -1 ||
	    own(c->state_db, "-wal", pw->pw_uid, pw->pw_gid, err, len) == -1 ||
	    own(c->state_db, "-shm", pw->pw_uid, pw->pw_gid, err, len) == -1 ||
	    (c->journal != NULL &&
	    own(c->journal, "", pw->pw_uid, pw->pw_gid, err, len) == -1))
		return -1;
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		snprintf(err, len, "cannot become %s: %s", c->user,
		    strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, len, "could regain root after dropping it");
		return -1;
	}
	return 0;
}
