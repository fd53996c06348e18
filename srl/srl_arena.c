/* srl_arena.c — the compiler's arena: one free() for the whole tree. */
#include "srl_int.h"

#include <stdlib.h>
#include <string.h>

struct srl_ablock {
	struct srl_ablock *next;
	max_align_t data[];
};

void *srl_alloc(struct srl_arena *a, size_t n)
{
	struct srl_ablock *b = calloc(1, sizeof *b + (n ? n : 1));
	if (!b) {
		if (a->oom)
			longjmp(*a->oom, 1);
		abort();        /* no recovery point: cannot return NULL here */
	}
	b->next = a->head;
	a->head = b;
	return b->data;
}

void *srl_grow(struct srl_arena *a, void *arr, size_t *cap, size_t need,
	       size_t size)
{
	if (need <= *cap)
		return arr;
	size_t n = *cap ? *cap * 2 : 8;
	while (n < need)
		n *= 2;
	void *p = srl_alloc(a, n * size);
	if (arr && *cap)
		memcpy(p, arr, *cap * size);
	*cap = n;
	return p;
}

void srl_arena_free(struct srl_arena *a)
{
	while (a->head) {
		struct srl_ablock *b = a->head;
		a->head = b->next;
		free(b);
	}
}
