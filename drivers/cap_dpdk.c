/* cap_dpdk.c — placeholder until the dpdk back end lands. */
#include "cap_impl.h"

struct cap *cap_dpdk_open(const char *ifname, const struct cap_options *o,
                          char *err, size_t errlen)
{
	(void)ifname;
	(void)o;
	cap_fmterr(err, errlen, "capture driver 'dpdk' is not in this build yet");
	return NULL;
}
