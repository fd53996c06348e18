/*
 * pairhash.h — a symmetric hash of an IP address pair, for spreading
 * packets over workers: both directions of a conversation, and every
 * fragment of a datagram, hash alike because only the two addresses count
 * (never ports, which later fragments do not carry) and they are taken in
 * sorted order.
 *
 * The arithmetic (an address folded to 64 bits, splitmix64's finaliser over
 * the ordered pair, the worker from the high 32 bits by multiply-shift) is
 * the one drivers/cap_dpdk.c's software spreading uses, so a packet goes
 * to the same worker number whichever of the two spreads it.
 *
 * Addresses are given as pointers to their wire bytes (network order);
 * nothing is read beyond the 4 or 16 bytes of each.
 */
#ifndef NTM_PAIRHASH_H
#define NTM_PAIRHASH_H

#include <stdint.h>

#define PAIRHASH_IPV4_LEN 4u
#define PAIRHASH_IPV6_LEN 16u

static inline uint32_t pairhash_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* An IPv6 address folded to 64 bits: high half xor low half. */
static inline uint64_t pairhash_fold6(const uint8_t *a)
{
	return (uint64_t)(pairhash_be32(a) ^ pairhash_be32(a + 8)) << 32 |
	       (pairhash_be32(a + 4) ^ pairhash_be32(a + 12));
}

/* The hash of the unordered pair {a, b} of folded addresses. */
static inline uint64_t pairhash_mix(uint64_t a, uint64_t b)
{
	uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
	uint64_t h = lo * 0x9e3779b97f4a7c15ull ^ hi;

	h = (h ^ h >> 30) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ h >> 27) * 0x94d049bb133111ebull;
	return h ^ h >> 31;
}

static inline uint64_t pairhash_ipv4(const uint8_t *a, const uint8_t *b)
{
	return pairhash_mix(pairhash_be32(a), pairhash_be32(b));
}

static inline uint64_t pairhash_ipv6(const uint8_t *a, const uint8_t *b)
{
	return pairhash_mix(pairhash_fold6(a), pairhash_fold6(b));
}

/* 0..n-1 from a hash, without a division: the high 32 bits scaled to n
 * (bias below n / 2^32). */
static inline unsigned pairhash_pick(uint64_t h, unsigned n)
{
	return (unsigned)((h >> 32) * n >> 32);
}

#endif
