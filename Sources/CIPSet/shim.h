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
#include <libipset/session.h>
#include <libipset/types.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

// ipset_init allocates only; used as a link check without touching the kernel.
static inline int kr_ipset_link_check(void) {
    struct ipset *handle = ipset_init();
    if (handle == NULL) return -1;
    ipset_fini(handle);
    return 0;
}

// libipset's default print and error handlers are variadic and call exit(). These replacements
// format in C and hand Swift plain strings: kind 0 = output, 1 = warning, 2 = error.
typedef void (*kr_ipset_sink_fn)(void *ctx, int kind, const char *text);

struct kr_ipset_bridge {
    kr_ipset_sink_fn sink;
    void *ctx;
};

static inline void kr_ipset_emit(struct kr_ipset_bridge *b, int kind, const char *fmt, va_list ap) {
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0) return;
    char *buf = (char *)malloc((size_t)n + 1);
    if (buf == NULL) return;
    vsnprintf(buf, (size_t)n + 1, fmt, ap);
    b->sink(b->ctx, kind, buf);
    free(buf);
}

static inline int kr_ipset_custom_error(struct ipset *ipset, void *p, int status, const char *msg, ...) {
    (void)ipset;
    if (msg == NULL) return status;  // "no problem"
    va_list ap;
    va_start(ap, msg);
    kr_ipset_emit((struct kr_ipset_bridge *)p, status == IPSET_NO_PROBLEM ? 1 : 2, msg, ap);
    va_end(ap);
    return status;
}

static inline int kr_ipset_standard_error(struct ipset *ipset, void *p) {
    struct kr_ipset_bridge *b = (struct kr_ipset_bridge *)p;
    struct ipset_session *s = ipset_session(ipset);
    const char *msg = ipset_session_report_msg(s);
    enum ipset_err_type type = ipset_session_report_type(s);
    if (msg != NULL && msg[0] != 0) b->sink(b->ctx, type == IPSET_WARNING ? 1 : 2, msg);
    ipset_session_report_reset(s);
    return type == IPSET_WARNING ? 0 : -1;
}

static inline int kr_ipset_print_out(struct ipset_session *session, void *p, const char *fmt, ...) {
    (void)session;
    va_list ap;
    va_start(ap, fmt);
    kr_ipset_emit((struct kr_ipset_bridge *)p, 0, fmt, ap);
    va_end(ap);
    return 0;
}

// A handle whose every message goes to the bridge; output in `save` format.
static inline struct ipset *kr_ipset_open(struct kr_ipset_bridge *bridge) {
    ipset_load_types();
    struct ipset *handle = ipset_init();
    if (handle == NULL) return NULL;
    ipset_custom_printf(handle, kr_ipset_custom_error, kr_ipset_standard_error, kr_ipset_print_out, bridge);
    return handle;
}

// Many commands in one pass, as `ipset restore` runs them: libipset batches consecutive adds to a
// set into few netlink messages. Stops at the first failing line (reported with its line number).
static inline int kr_ipset_restore(struct ipset *handle, const char *text, size_t length) {
    FILE *stream = fmemopen((void *)text, length, "r");
    if (stream == NULL) return -1;
    int rc = ipset_parse_stream(handle, stream);
    fclose(stream);
    return rc;
}
static inline int kr_ipset_output_save(struct ipset *handle) {
    return ipset_session_output(ipset_session(handle), IPSET_LIST_SAVE);
}
#endif
