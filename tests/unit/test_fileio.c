/* test_fileio — a whole file into memory: contents, the NUL after them,
 * the empty file, the size limit, and which step failed. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fileio.h"

static char dir[] = "/tmp/ntm-test-fileio.XXXXXX";

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void contents(void **state)
{
	(void)state;
	static const char bytes[] = { 'S', 'E', 'T', ' ', '2', 0, '\n', (char)0xff };
	char p[256], *buf;
	size_t len;
	path_of(p, sizeof p, "a");
	write_file(p, bytes, sizeof bytes);
	assert_int_equal(fileio_read_all(p, 0, &buf, &len), FILEIO_OK);
	assert_int_equal(len, sizeof bytes);
	assert_memory_equal(buf, bytes, sizeof bytes);
	assert_int_equal(buf[len], '\0');
	free(buf);
}

/* Larger than the first buffer: the growth keeps every byte. */
static void large(void **state)
{
	(void)state;
	size_t n = 200000;
	unsigned char *data = malloc(n);
	assert_non_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (unsigned char)(i * 7 + 3);
	char p[256], *buf;
	size_t len;
	path_of(p, sizeof p, "big");
	write_file(p, data, n);
	assert_int_equal(fileio_read_all(p, 0, &buf, &len), FILEIO_OK);
	assert_int_equal(len, n);
	assert_memory_equal(buf, data, n);
	free(buf);
	/* the limit: exactly n is accepted, n - 1 is not */
	assert_int_equal(fileio_read_all(p, n, &buf, &len), FILEIO_OK);
	free(buf);
	assert_int_equal(fileio_read_all(p, n - 1, &buf, &len), FILEIO_TOO_LARGE);
	assert_null(buf);
	assert_int_equal(len, 0);
	free(data);
}

static void empty(void **state)
{
	(void)state;
	char p[256], *buf;
	size_t len = 99;
	path_of(p, sizeof p, "empty");
	write_file(p, "", 0);
	assert_int_equal(fileio_read_all(p, 0, &buf, &len), FILEIO_OK);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	assert_int_equal(buf[0], '\0');
	free(buf);
}

static void failures(void **state)
{
	(void)state;
	char p[256], *buf = (char *)1;
	size_t len;
	path_of(p, sizeof p, "missing");
	errno = 0;
	assert_int_equal(fileio_read_all(p, 0, &buf, &len), FILEIO_OPEN);
	assert_int_equal(errno, ENOENT);
	assert_null(buf);
	/* a directory opens but cannot be read */
	errno = 0;
	assert_int_equal(fileio_read_all(dir, 0, &buf, &len), FILEIO_READ);
	assert_int_equal(errno, EISDIR);
	assert_null(buf);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	static const char *names[] = { "a", "big", "empty" };
	char p[256];
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		path_of(p, sizeof p, names[i]);
		unlink(p);
	}
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(contents),
		cmocka_unit_test(large),
		cmocka_unit_test(empty),
		cmocka_unit_test(failures),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
