/*
 * pkg.h — flow data packages (RFC 2720 flowDataPackageTable and NTM-MIB's
 * ntmPackageTable): one flow's attribute values as one BER SEQUENCE, in
 * selector order; and the index part of a package instance OID.
 *
 * Element syntax per attribute (doc/packages.md is normative): INTEGER for
 * small numbers (types, interfaces, ruleset, index, class/kind, scales, the
 * Distributions bitmask), OCTET STRING for addresses, masks and ids,
 * Counter64 for 64-bit counters and ns times, TimeTicks for
 * FirstTime/LastActiveTime, OCTET STRING in ntm's distribution encodings
 * for attributes 66..75, and NULL for a value the flow does not have.
 *
 * The meter encodes (pkg_encode) from flowattr values; the reader decodes
 * (pkg_decode) into coll values that the collector (coll.h) turns into
 * records.  Encoding then decoding gives back the same values, widths
 * included (pkg_number_width), so records render byte-identically.
 * Distributions travel whole and cumulative: a decoded struct dist has the
 * live one's count, histogram and ring values (not its ring timestamps),
 * which is all dist_interval reads.
 */
#ifndef NTM_PKG_H
#define NTM_PKG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "coll.h"
#include "dist.h"

#define PKG_ATTRS_MAX   64    /* attributes in one selector */
#define PKG_DISTS_MAX   12    /* distribution attributes (66..75 + spare) */
#define PKG_WHY_MAX     96    /* room for a decode error message */

/* ntm's distribution encodings (doc/packages.md): the first octet is the
 * transform, as in a distribution rule's mask byte 1. */
#define PKG_DIST_DYNAMIC   3u   /* ntm's dynamic turnaround kind (struct dist) */
#define PKG_DIST_VERSION   1u   /* octet 2 of the dynamic encoding */

/* How an attribute's value travels in a package. */
enum pkg_elem {
	PKG_EL_OCTETS,      /* OCTET STRING, width = length (addresses, masks,
	                       ids, unknown attributes) */
	PKG_EL_INTEGER,     /* INTEGER, non-negative */
	PKG_EL_COUNTER64,   /* 64-bit counters and ns times */
	PKG_EL_TIMETICKS,   /* FirstTime, LastActiveTime, FlowTimeMark */
	PKG_EL_DIST         /* OCTET STRING in a distribution encoding */
};

/* The element syntax of attribute `attr`. */
enum pkg_elem pkg_elem_of(unsigned attr);

/* Width in octets of a number-valued attribute (INTEGER, Counter64,
 * TimeTicks elements) as flowattr_get gives it and pkg_decode returns it:
 * the attribute table's width, except FlowRuleSet (4, as the .dif writer
 * has always written it).  0 for attributes that are not numbers. */
unsigned pkg_number_width(unsigned attr);

/*
 * The BER SEQUENCE for vals[0..n) into buf.  Returns its length, or -1
 * (errno ENOSPC: buf too small; EINVAL: a value that cannot be encoded).
 */
ssize_t pkg_encode(const struct coll_value *vals, size_t n,
		   uint8_t *buf, size_t cap);

/* Decoded values, with the storage their distributions point into. */
struct pkg_decoded {
	size_t n;
	struct coll_value v[PKG_ATTRS_MAX];
	struct dist *dists;                    /* PKG_DISTS_MAX each */
	struct dist_static *sdists;
	struct dist_static_spec *specs;
	char why[PKG_WHY_MAX];                 /* pkg_decode's message */
};

int pkg_decoded_init(struct pkg_decoded *d);     /* 0, or -1 (ENOMEM) */
void pkg_decoded_fini(struct pkg_decoded *d);

/*
 * Decode a package read with selector attrs[0..n).  Numeric elements become
 * COLL_BYTES of the width the .dif writer uses for that attribute (the same
 * flowattr_get gives); INTEGER, Counter32/64, Gauge32 and TimeTicks are
 * accepted interchangeably for numbers (RFC 2720 leaves the tags open).
 * Returns 0, or -1 with *why set ("element 3: expected OCTET STRING", ...).
 */
int pkg_decode(const uint8_t *buf, size_t len, const uint16_t *attrs,
	       size_t n, struct pkg_decoded *out, const char **why);

/*
 * Index of a package instance, after the column sub-identifier:
 *   <len> <sel...> <set> <time> <index>
 * narrow (flowDataPackageTable): one sub-id per attribute, each <= 255;
 * wide (ntmPackageTable): two sub-ids (octets, big-endian) per attribute.
 * pkg_index_encode returns the number of sub-ids written (0 when cap is too
 * small, n is 0 or above PKG_ATTRS_MAX, or an attribute does not fit).
 */
size_t pkg_index_encode(bool wide, const uint16_t *attrs, size_t n,
			uint32_t set, uint32_t time_cs, uint32_t index,
			uint32_t *out, size_t cap);

/*
 * Parse the selector at the start of sub[0..len): the attributes into
 * attrs (PKG_ATTRS_MAX room), their number into *n; returns the sub-ids
 * consumed, or 0 when sub does not start with a complete, valid selector.
 */
size_t pkg_selector_decode(bool wide, const uint32_t *sub, size_t len,
			   uint16_t *attrs, size_t *n);

#endif
