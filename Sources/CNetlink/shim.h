// libnl-3, libnl-route-3 and libnl-genl-3: links, addresses, routes, and IPVS over generic netlink.
#ifndef KR_CNETLINK_SHIM_H
#define KR_CNETLINK_SHIM_H
#include <netlink/netlink.h>
#include <netlink/version.h>
#include <netlink/errno.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

// LIBNL_STRING is a macro; expose the compiled-in version as a function.
static inline const char *kr_nl_version(void) { return LIBNL_STRING; }
#endif
