/*
 * driver.c - replay files through a fuzz target without libFuzzer
 *
 * Linked instead of -fsanitize=fuzzer: each file named on the command line
 * is read whole into a buffer of exactly its size (so a read past the end
 * is caught by AddressSanitizer) and passed once to
 * LLVMFuzzerTestOneInput().  A crash ends the process, which fuzz/run
 * reports with the file's name, printed before each run.
 *
 * Thread safety: single-threaded test driver.
 * Tests: it is the test; fuzz/run --regress, tests/fuzz_regress.sh.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* read_file - the whole of path in a new buffer; NULL on error */
static uint8_t *
read_file(const char *path, size_t *size)
{
	FILE    *fp;
	uint8_t *buf = NULL, *nbuf;
	size_t   len = 0, cap = 0, n;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 4096;
			if ((nbuf = realloc(buf, cap)) == NULL)
				goto fail;
			buf = nbuf;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp))
		goto fail;
	fclose(fp);
	/* an exact-size copy, so that over-reads hit the redzone */
	if ((nbuf = malloc(len ? len : 1)) == NULL) {
		free(buf);
		return NULL;
	}
	if (len > 0)
		memcpy(nbuf, buf, len);
	free(buf);
	*size = len;
	return nbuf;
fail:
	free(buf);
	fclose(fp);
	return NULL;
}

int
main(int argc, char *argv[])
{
	uint8_t *data;
	size_t   size;
	int      i, rc = 0;

	for (i = 1; i < argc; i++) {
		if ((data = read_file(argv[i], &size)) == NULL) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			rc = 1;
			continue;
		}
		fprintf(stderr, "replay: %s\n", argv[i]);
		(void) LLVMFuzzerTestOneInput(data, size);
		free(data);
	}
	return rc;
}
