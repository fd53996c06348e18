/*
 * value.h — RTFM values and masks in text (RFC 2723 Appendix B), shared by
 * the SRL compiler and the rules-file reader/writer.
 *
 *   fields:   "130.216.7"  "FF-FF-00-00"  "1.3.10!50"  "23"  (Appendix B)
 *   IPv6:     "2001:db8::1"   (RFC 4291 text form)
 *   MAC:      "00-60-3e-10-e0-a1" is plain hex fields; "00:60:3e:10:e0:a1"
 *   char:     "'W'"  (one byte)
 *   prefix:   "/24" masks are built by value_prefix_mask()
 *
 * Values give the leading bytes of an attribute and are right-padded with
 * zeros to its width; a single untyped field fills the whole width.
 */
#ifndef NTM_VALUE_H
#define NTM_VALUE_H

#include <stddef.h>
#include <stdint.h>
#include "attr.h"
#include "rule.h"

/*
 * Parse `text` (len bytes, no NUL needed) as a value or mask for attribute
 * `a` and store it right-padded in out[0..*width).  *width becomes the
 * attribute's width for this value: the table width, except for peer
 * addresses (4 unless the text is IPv6 or longer than 4 bytes, then 16),
 * distributions (6) and meter variables (the width of what is written).
 * Returns 0, or -1 with a message in err (e.g. "value 300 does not fit in
 * 1 byte", "value is 4 bytes, SourceTransAddress holds 2").
 *
 * Details (value.c): blanks around the text are ignored; a lone untyped
 * number for a meter variable or Null takes the fewest bytes that hold it
 * ("10" is 1 byte, "300" 2); for a variable an attribute name is accepted
 * and stored as its number in 2 bytes, big-endian (the value of an Assign
 * rule, "v1 & 0 = SourcePeerAddress"); a character constant ('W', '\'',
 * '\\') is 1 byte and needs a 1-byte attribute or a variable; "a:b:c:d:e:f"
 * with six 1-2 digit hex groups is a MAC, any other text with ':' IPv6.
 * On error out is all zero and *width 0; err may be NULL.
 */
int value_parse(const struct attr_info *a, const char *text, size_t len,
		uint8_t out[RULE_ADDR_MAX], uint8_t *width,
		char *err, size_t errlen);

/* A mask of `bits` leading one-bits in `width` bytes; -1 if bits > 8*width. */
int value_prefix_mask(unsigned bits, uint8_t width, uint8_t out[RULE_ADDR_MAX]);

/*
 * Render a value of attribute `a` (width bytes) the way ntm writes it in
 * rules files and listings: dotted decimal for IPv4 peers, RFC 5952 text for
 * 16-byte peers, hyphenated hex for MACs, decimal for ints and ports,
 * dotted decimal fields otherwise.  The text parses back to the same bytes.
 * Returns the length written (always NUL-terminated, truncated to cap).
 *
 * Details (value.c): distributions as RFC 2724's "1.0.25!1500"; a variable's
 * 2-byte value naming a known attribute (other than Null) as that name,
 * 16 bytes as IPv6 text; string and mask attributes drop trailing zero bytes
^ * ("130.216" for a 20-byte string).  Widths the attribute cannot have are
 * written as dotted bytes (they do not parse back: value_parse refuses
 * them).  Width 0 gives "0".
 */
int value_format(const struct attr_info *a, const uint8_t *v, uint8_t width,
		 char *buf, size_t cap);

#endif
