/* fileio.c — a whole file into memory (see fileio.h). */
#include "fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define FILEIO_FIRST_CHUNK 65536u

enum fileio_err fileio_read_all(const char *path, size_t max, char **buf,
				size_t *len)
{
	*buf = NULL;
	*len = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return FILEIO_OPEN;
	char *b = NULL;
	size_t n = 0, cap = 0;
	enum fileio_err rc = FILEIO_OK;
	for (;;) {
		if (n + 1 >= cap) {     /* room for the NUL too */
			size_t ncap = cap ? cap * 2 : FILEIO_FIRST_CHUNK;
			if (max && cap > max) {
				rc = FILEIO_TOO_LARGE;
				break;
			}
			char *p = realloc(b, ncap);
			if (!p) {
				rc = FILEIO_NOMEM;
				break;
			}
			b = p;
			cap = ncap;
		}
		size_t got = fread(b + n, 1, cap - 1 - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				rc = FILEIO_READ;
			break;
		}
	}
	int saved = errno;
	fclose(f);
	if (rc == FILEIO_OK && max && n > max)
		rc = FILEIO_TOO_LARGE;
	if (rc != FILEIO_OK) {
		free(b);
		errno = saved;
		return rc;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return FILEIO_OK;
}
