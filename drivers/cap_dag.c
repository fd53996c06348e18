/*
 * cap_dag.c — live capture from an Endace DAG card (--driver dag).
 *
 * Reading a DAG card needs Endace's own library (dagapi.h, libdag), which
 * is proprietary and not packaged by Debian, and a card to test against;
 * neither is available to this project's builds, so this back end is not
 * written yet and says so.  ERF files, the cards' native format, are read
 * without any Endace code by cap_erf.c (`ntm-meter --read FILE.erf`).
 */
#include "cap_impl.h"

struct cap *cap_dag_open(const char *ifname, const struct cap_options *o,
                         char *err, size_t errlen)
{
	(void)o;
	cap_fmterr(err, errlen, "%s: live DAG capture is not in this build: it needs "
	           "Endace's DAG library (dagapi.h, libdag; not packaged by Debian) at "
	           "build time and a DAG card; ERF files are read with --read", ifname);
	return NULL;
}
