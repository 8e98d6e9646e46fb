// libipset. Its headers carry private copies of kernel definitions that clash with libiptc's:
// take the kernel's first and tell libipset not to define its own (see shared notes).
#ifndef KR_CIPSET_SHIM_H
#define KR_CIPSET_SHIM_H
// glibc first: linux/libc-compat.h then skips the kernel copies of in_addr and sockaddr_in.
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#define LIBIPSET_NF_INET_ADDR_H
#define LIBIPSET_NFPROTO_H
#include <libipset/ipset.h>

// ipset_session_init allocates only; used as a link check without touching the kernel.
static inline int kr_ipset_link_check(void) {
    struct ipset *handle = ipset_init();
    if (handle == NULL) return -1;
    ipset_fini(handle);
    return 0;
}
#endif
