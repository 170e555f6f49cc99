/*
 * queueid.h - Postfix queue IDs: validation, and argv and standard input
 * for postsuper and postqueue
 *
 * A queue ID goes to postsuper only after queueid_valid() said yes.  Two
 * forms exist (see postconf(5), enable_long_queue_ids):
 *
 *   short  5 upper-case hex digits of microseconds, then the inode number
 *          in upper-case hex: [0-9A-F]{6,21}, e.g. "5F266A72241"
 *   long   the seconds (6 to 12 characters) and microseconds (exactly 4)
 *          in a 52-character alphabet, a 'z', then the inode number in the
 *          first 51 characters of that alphabet (1 to 12 characters),
 *          e.g. "3Pt2mN2VXxznjll"
 *
 * The alphabet is 0-9, B-Z and b-z without vowels (AEIOUaeiou), in that
 * order; the 51-character one leaves out 'z', so the last 'z' of a long
 * ID is the separator.  The microseconds must be below 1000000.  Nothing
 * else passes: no '/', '.', space, vowel, lower-case hex in a short ID.
 *
 * The commands run with execve() and fixed arguments, never a shell;
 * queue IDs travel on standard input ("postsuper -d -" and friends), one
 * per line, so 100,000 IDs cost one process.
 *
 * Thread safety: pure functions; queueid_write_list() writes to the
 * caller's file descriptor only.
 * Tests: tests/test_queueid.c
 */
#ifndef SASLGUARD_QUEUEID_H
#define SASLGUARD_QUEUEID_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define QUEUEID_MAX    31 /* longest valid ID; a buffer needs one more */
#define QUEUE_ARGV_MAX 8  /* entries queue_argv() may fill, NULL included */

enum queueid_form {
	QUEUEID_INVALID = 0,
	QUEUEID_SHORT, /* enable_long_queue_ids = no */
	QUEUEID_LONG   /* enable_long_queue_ids = yes */
};

enum queue_op {
	QUEUE_LIST = 1, /* postqueue -j */
	QUEUE_DELETE,   /* postsuper -d - */
	QUEUE_RELEASE,  /* postsuper -H -: hold -> deferred */
	QUEUE_REQUEUE,  /* postsuper -r -: any queue -> maildrop, new ID */
	QUEUE_HOLD      /* postsuper -h - */
};

/* queueid_form - the form of the len bytes at s, or QUEUEID_INVALID */
enum queueid_form queueid_form(const char *s, size_t len);

/* queueid_valid - 1 when the string s is a valid queue ID, else 0 */
int queueid_valid(const char *s);

/*
 * queueid_long_time - the creation time encoded in a long queue ID
 *
 * Returns 0 and stores the seconds, or -1 when s is not a valid long ID
 * (short IDs carry no seconds).
 */
int queueid_long_time(const char *s, time_t *sec);

/*
 * queueid_list_format - "ID\nID\n..." into buf, for postsuper's stdin
 *
 * Returns the length (without the NUL), or -1 when an ID is invalid or
 * the list does not fit (buf then holds "" when len > 0).
 */
long queueid_list_format(
    char *buf, size_t len, const char *const *ids, size_t n);

/*
 * queueid_write_list - write "ID\n" for each of n IDs to fd
 *
 * Checks every ID before writing anything; retries on EINTR and short
 * writes.  The caller ignores SIGPIPE.  Returns 0, or -1 with a message
 * in err (an invalid ID, or write(2) failed: the reader went away).
 */
int queueid_write_list(
    int fd, const char *const *ids, size_t n, char *err, size_t errlen);

/*
 * queue_argv - the fixed argv for one queue operation
 *
 * postsuper_path and postqueue_path must be absolute; config_dir, when
 * not NULL, must be absolute and becomes "-c DIR"; queue, when not NULL,
 * restricts postsuper to one of hold, incoming, active, deferred (not
 * allowed for QUEUE_LIST).  Fills argv (max entries, NULL-terminated)
 * with pointers to the arguments and string constants, e.g.
 * { "/usr/sbin/postsuper", "-c", "/etc/postfix-out", "-d", "-", "hold",
 * NULL }.  Returns the number of arguments, or -1.
 */
int queue_argv(enum queue_op op, const char *postsuper_path,
    const char *postqueue_path, const char *config_dir, const char *queue,
    const char **argv, size_t max);

/*
 * queueid_fuzz - fuzzing entry point: queueid_form() on data
 *
 * Returns the form found.
 */
int queueid_fuzz(const uint8_t *data, size_t size);

#endif
