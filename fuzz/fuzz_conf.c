/*
 * fuzz_conf.c - libFuzzer target: the config loader (common/conf.c)
 *
 * conf_load() reads a path, so each input is written to one file in a
 * private directory made once per process (removed at exit) and loaded
 * from there; a conf that loads is released again with conf_unref().
 *
 * Inputs with "@include" are skipped: an include names another file on
 * this machine, which a config file is trusted to do, and following it
 * would fuzz the file system rather than the loader.
 *
 * Thread safety: single-threaded fuzz target.
 * Tests: fuzz/run (fuzzing), fuzz/run --regress (replay of the corpus).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];   /* the private directory, "" before set-up */
static char path[128]; /* the config file inside it */

/* cleanup - remove the file and the directory at exit */
static void
cleanup(void)
{
	if (path[0] != '\0')
		(void) unlink(path);
	if (dir[0] != '\0')
		(void) rmdir(dir);
}

/* setup - make the private directory once */
static int
setup(void)
{
	const char *tmp = getenv("TMPDIR");
	int         n;

	if (dir[0] != '\0')
		return 0;
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	n = snprintf(dir, sizeof(dir), "%s/fuzz_conf.XXXXXX", tmp);
	if (n < 0 || (size_t) n >= sizeof(dir) || mkdtemp(dir) == NULL) {
		dir[0] = '\0';
		return -1;
	}
	n = snprintf(path, sizeof(path), "%s/saslguard.conf", dir);
	if (n < 0 || (size_t) n >= sizeof(path)) {
		(void) rmdir(dir);
		dir[0] = '\0';
		return -1;
	}
	(void) atexit(cleanup);
	return 0;
}

/* write_all - the input as the whole content of path */
static int
write_all(const uint8_t *data, size_t size)
{
	ssize_t n;
	int     fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	while (size > 0) {
		if ((n = write(fd, data, size)) <= 0) {
			(void) close(fd);
			return -1;
		}
		data += n;
		size -= (size_t) n;
	}
	return close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c = NULL;
	char         err[4096];

	if (size > 65536 || memmem(data, size, "@include", 8) != NULL)
		return 0;
	if (setup() == -1 || write_all(data, size) == -1) {
		perror("fuzz_conf: set-up");
		abort();
	}
	if (conf_load(path, &c, err, sizeof(err)) == 0) {
		if (c == NULL)
			abort();
		conf_unref(c);
	} else if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL) {
		fprintf(stderr, "fuzz_conf: failure without a message\n");
		abort();
	}
	return 0;
}
