/*
 * fileio.h — a whole (small) file into memory: rules files, SRL sources,
 * reader configurations.  Callers word their own messages; this says which
 * step failed.
 */
#ifndef NTM_FILEIO_H
#define NTM_FILEIO_H

#include <stddef.h>

enum fileio_err {
	FILEIO_OK = 0,
	FILEIO_OPEN,        /* fopen failed: errno says why */
	FILEIO_READ,        /* a read failed: errno says why */
	FILEIO_TOO_LARGE,   /* more than max bytes */
	FILEIO_NOMEM
};

/*
 * Read the file at path into *buf (malloc'd, NUL-terminated, so never NULL
 * on success even for an empty file) and its length into *len.  max is the
 * largest size accepted, 0 for no limit.  On failure *buf is NULL.
 */
enum fileio_err fileio_read_all(const char *path, size_t max, char **buf,
				size_t *len);

#endif
