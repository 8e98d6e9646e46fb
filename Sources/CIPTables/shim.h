// libiptc (libip4tc + libip6tc): whole-table reads and atomic commits of the legacy x_tables.
#ifndef KR_CIPTABLES_SHIM_H
#define KR_CIPTABLES_SHIM_H
#include <sys/socket.h>
#include <netinet/in.h>
#include <libipset/linux_ip_set.h>   // before xt_set.h: see the libipset shim
#include <linux/netfilter/xt_set.h>
#include <libiptc/libiptc.h>
#include <libiptc/libip6tc.h>

static inline const char *kr_iptc_strerror(int err) { return iptc_strerror(err); }
#endif
