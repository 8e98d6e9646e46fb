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

#include <netlink/route/nexthop.h>
#include <netlink/cache.h>
#include <linux/rtnetlink.h>

// The cache iterates nl_object; routes are one kind of it.
static inline struct rtnl_route *kr_route_first(struct nl_cache *cache) { return (struct rtnl_route *)nl_cache_get_first(cache); }
static inline struct rtnl_route *kr_route_next(struct rtnl_route *route) { return (struct rtnl_route *)nl_cache_get_next((struct nl_object *)route); }

// LIBNL_STRING is a macro; expose the compiled-in version as a function.
static inline const char *kr_nl_version(void) { return LIBNL_STRING; }
#endif
