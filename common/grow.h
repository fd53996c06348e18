/*
 * grow.h — growable arrays: the one doubling helper the modules share.
 */
#ifndef NTM_GROW_H
#define NTM_GROW_H

#include <stddef.h>

/*
 * Make *arr (of `size`-byte elements, *cap of them allocated) hold at least
 * `need`: the capacity doubles from 16 until it does.  Returns 0, or -1
 * (the array unchanged) when out of memory or the size would overflow.
 */
int grow_array(void **arr, size_t *cap, size_t need, size_t size);

#endif
