/*
 * grow.c — growable arrays (see grow.h).
 */
#include "grow.h"

#include <stdint.h>
#include <stdlib.h>

#define GROW_FIRST 16

int grow_array(void **arr, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : GROW_FIRST;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return -1;
		n *= 2;
	}
	if (size && n > SIZE_MAX / size)
		return -1;
	void *p = realloc(*arr, n * size);
	if (!p)
		return -1;
	*arr = p;
	*cap = n;
	return 0;
}
