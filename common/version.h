/* version.h — the version every ntm program reports and writes in files. */
#ifndef NTM_VERSION_H
#define NTM_VERSION_H
#define NTM_VERSION "0.1.0"
#endif
