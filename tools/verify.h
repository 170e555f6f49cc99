/*
 * verify.h - "saslguardctl audit --verify": check journal hash chains
 *
 * Thread safety: single-threaded (writes to stdout and stderr).
 * Tests: tests/test_verify.c
 */
#ifndef SASLGUARD_VERIFY_H
#define SASLGUARD_VERIFY_H

/*
 * verify_main - verify [--continued] JOURNAL...
 *
 * argv[0] is "verify".  The files are one chain, oldest first ("-" is
 * standard input).  Prints "JOURNAL: N lines, chain intact" for each
 * file and returns 0, or prints "JOURNAL:LINE: chain broken: WHY" at the
 * first break and returns 1; 2 for a usage error, 1 when a file cannot
 * be read.
 */
int verify_main(int argc, char *argv[]);

#endif
