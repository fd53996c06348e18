/*
 * fuzz_cap — any bytes as a trace file: cap_open_file() either refuses
 * them with an error or yields packets whose bytes lie inside what was
 * read, ending in 0 or -1, never a crash.  The input is handed over
 * through a memfd so the real file path is exercised.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pkt pkts[7];
	char path[64], err[256];
	volatile uint8_t sink = 0;
	struct cap_stats st;
	struct cap *c;
	int fd, n;

	fd = memfd_create("fuzz_cap", 0);
	if (fd < 0)
		return 0;
	if (size > 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	c = cap_open_file(path, err, sizeof err);
	if (c == NULL) {
		if (err[0] == '\0')
			__builtin_trap();   /* a refusal must say why */
		close(fd);
		return 0;
	}
	/* small odd batches to cross record boundaries in many ways */
	while ((n = cap_next_batch(c, pkts, 1 + size % 7)) > 0) {
		for (int i = 0; i < n; i++) {
			if (pkts[i].caplen > size)
				__builtin_trap();
			if (pkts[i].caplen > 0)   /* touch the first and last byte */
				sink ^= pkts[i].data[0] ^ pkts[i].data[pkts[i].caplen - 1];
		}
	}
	if (n < 0 && cap_error(c)[0] == '\0')
		__builtin_trap();
	cap_stats(c, &st);
	if (st.pos > size)
		__builtin_trap();
	cap_close(c);
	close(fd);
	(void)sink;
	return 0;
}
