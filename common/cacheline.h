/* cacheline.h — the cache line size the hot structures are laid out and
 * aligned for (x86-64 and most arm64: 64 bytes). */
#ifndef NTM_CACHELINE_H
#define NTM_CACHELINE_H
#define CACHE_LINE 64u
#endif
