/* cap_afpacket.c — placeholder until the afpacket back end lands. */
#include "cap_impl.h"

struct cap *cap_afpacket_open(const char *ifname, const struct cap_options *o,
                              char *err, size_t errlen)
{
	(void)ifname;
	(void)o;
	cap_fmterr(err, errlen, "capture driver 'afpacket' is not in this build yet");
	return NULL;
}
