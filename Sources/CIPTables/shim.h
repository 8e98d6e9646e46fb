// libiptc (libip4tc + libip6tc): whole-table reads and atomic commits of the legacy x_tables.
#ifndef KR_CIPTABLES_SHIM_H
#define KR_CIPTABLES_SHIM_H
#include <sys/socket.h>
#include <netinet/in.h>
#include <libipset/linux_ip_set.h>   // before xt_set.h: see the libipset shim
#include <linux/netfilter/xt_set.h>
#include <libiptc/libiptc.h>
#include <libiptc/libip6tc.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_limit.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter/xt_sctp.h>
#include <linux/netfilter/xt_NFLOG.h>
#include <linux/netfilter/xt_ipvs.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <fcntl.h>

static inline const char *kr_iptc_strerror(int err) { return iptc_strerror(err); }
static inline const char *kr_ip6tc_strerror(int err) { return ip6tc_strerror(err); }
static inline int kr_errno(void) { return errno; }

// An ipt_entry (or, with v6, an ip6t_entry) being assembled: the entry, its matches, then its target,
// each padded to XT_ALIGN. Matches and targets are the same for both families; only the header differs.
// The buffer is 8-byte aligned (calloc), as libiptc requires.
struct kr_rule {
    unsigned char *buf;
    size_t size;
    size_t cap;
    int v6;
};

static inline int kr_rule_init_family(struct kr_rule *r, int v6) {
    r->cap = 1024;
    r->v6 = v6;
    r->buf = (unsigned char *)calloc(1, r->cap);
    if (r->buf == NULL) return -1;
    r->size = v6 ? XT_ALIGN(sizeof(struct ip6t_entry)) : XT_ALIGN(sizeof(struct ipt_entry));
    return 0;
}

static inline int kr_rule_init(struct kr_rule *r) { return kr_rule_init_family(r, 0); }

static inline void kr_rule_free(struct kr_rule *r) { free(r->buf); r->buf = NULL; }

static inline struct ipt_entry *kr_rule_entry(struct kr_rule *r) { return (struct ipt_entry *)r->buf; }

static inline int kr_rule_grow(struct kr_rule *r, size_t more) {
    if (r->size + more <= r->cap) return 0;
    size_t cap = r->cap * 2 + more;
    unsigned char *b = (unsigned char *)realloc(r->buf, cap);
    if (b == NULL) return -1;
    memset(b + r->cap, 0, cap - r->cap);
    r->buf = b;
    r->cap = cap;
    return 0;
}

// Source/destination address and prefix length (network order inside), protocol number.
static inline void kr_rule_set_ip(struct kr_rule *r, int source, uint32_t addr_host, int prefix) {
    struct ipt_entry *e = kr_rule_entry(r);
    uint32_t mask = prefix == 0 ? 0 : htonl(~((1u << (32 - prefix)) - 1) & 0xffffffffu);
    if (prefix == 32) mask = 0xffffffffu;
    if (source) { e->ip.src.s_addr = htonl(addr_host) & mask; e->ip.smsk.s_addr = mask; }
    else { e->ip.dst.s_addr = htonl(addr_host) & mask; e->ip.dmsk.s_addr = mask; }
}

static inline void kr_rule_set_proto(struct kr_rule *r, uint16_t proto) {
    if (r->v6) {
        struct ip6t_entry *e = (struct ip6t_entry *)r->buf;
        e->ipv6.proto = proto;
        e->ipv6.flags |= IP6T_F_PROTO;  // without it the kernel ignores proto
    } else {
        kr_rule_entry(r)->ip.proto = proto;
    }
}

static inline struct ip6t_entry *kr_rule_entry6(struct kr_rule *r) { return (struct ip6t_entry *)r->buf; }

// IPv6 source/destination: 16 bytes in network order, prefix length.
static inline void kr_rule_set_ip6(struct kr_rule *r, int source, const uint8_t *addr, int prefix) {
    struct ip6t_entry *e = kr_rule_entry6(r);
    struct in6_addr a, m;
    memset(&m, 0, sizeof(m));
    for (int i = 0; i < 16; i++) {
        int bits = prefix - i * 8;
        m.s6_addr[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
        a.s6_addr[i] = addr[i] & m.s6_addr[i];
    }
    if (source) { e->ipv6.src = a; e->ipv6.smsk = m; } else { e->ipv6.dst = a; e->ipv6.dmsk = m; }
}

static inline int kr_rule_add_match(struct kr_rule *r, const char *name, uint8_t revision, const void *data, size_t len) {
    size_t size = XT_ALIGN(sizeof(struct xt_entry_match) + len);
    if (kr_rule_grow(r, size) != 0) return -1;
    struct xt_entry_match *m = (struct xt_entry_match *)(r->buf + r->size);
    m->u.user.match_size = (uint16_t)size;
    strncpy(m->u.user.name, name, sizeof(m->u.user.name) - 1);
    m->u.user.revision = revision;
    memcpy(m->data, data, len);
    r->size += size;
    return 0;
}

// Ends the rule with its target: a chain name or ACCEPT/DROP/RETURN as a standard target (libiptc
// computes the verdict), or an extension target with its data. Fills in the offsets.
static inline int kr_rule_finish(struct kr_rule *r, const char *name, uint8_t revision, const void *data, size_t len, int standard) {
    size_t size = standard ? XT_ALIGN(sizeof(struct xt_standard_target)) : XT_ALIGN(sizeof(struct xt_entry_target) + len);
    if (kr_rule_grow(r, size) != 0) return -1;
    uint16_t target_offset = (uint16_t)r->size;
    struct xt_entry_target *t = (struct xt_entry_target *)(r->buf + r->size);
    t->u.user.target_size = (uint16_t)size;
    strncpy(t->u.user.name, name, sizeof(t->u.user.name) - 1);
    t->u.user.revision = revision;
    if (!standard && len > 0) memcpy(t->data, data, len);
    r->size += size;
    if (r->v6) {
        kr_rule_entry6(r)->target_offset = target_offset;
        kr_rule_entry6(r)->next_offset = (uint16_t)r->size;
    } else {
        kr_rule_entry(r)->target_offset = target_offset;
        kr_rule_entry(r)->next_offset = (uint16_t)r->size;
    }
    return 0;
}

// Reading: the matches of an entry, one at a time from an offset (0 = first); returns the next
// offset, or 0 at the end.
static inline size_t kr_entry_match(const struct ipt_entry *e, size_t offset, const struct xt_entry_match **out) {
    size_t at = offset == 0 ? sizeof(struct ipt_entry) : offset;
    if (at >= e->target_offset) return 0;
    const struct xt_entry_match *m = (const struct xt_entry_match *)((const unsigned char *)e + at);
    *out = m;
    return at + m->u.match_size;
}

static inline const struct xt_entry_target *kr_entry_target(const struct ipt_entry *e) {
    return (const struct xt_entry_target *)((const unsigned char *)e + e->target_offset);
}

static inline size_t kr_entry6_match(const struct ip6t_entry *e, size_t offset, const struct xt_entry_match **out) {
    size_t at = offset == 0 ? sizeof(struct ip6t_entry) : offset;
    if (at >= e->target_offset) return 0;
    const struct xt_entry_match *m = (const struct xt_entry_match *)((const unsigned char *)e + at);
    *out = m;
    return at + m->u.match_size;
}

static inline const struct xt_entry_target *kr_entry6_target(const struct ip6t_entry *e) {
    return (const struct xt_entry_target *)((const unsigned char *)e + e->target_offset);
}

static inline const void *kr_match_data(const struct xt_entry_match *m) { return m->data; }
static inline const void *kr_target_data(const struct xt_entry_target *t) { return t->data; }

// The kernel index of an ipset by name (the set match carries indexes, not names), or by index the
// name. Both ask the ipset getsockopt interface, after agreeing on its protocol version.
static inline int kr_ipset_request(struct ip_set_req_get_set *req) {
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    if (fd < 0) return -1;
    struct ip_set_req_version v = { .op = IP_SET_OP_VERSION };
    socklen_t len = sizeof(v);
    int rc = getsockopt(fd, SOL_IP, SO_IP_SET, &v, &len);
    if (rc == 0) {
        req->version = v.version;
        len = sizeof(*req);
        rc = getsockopt(fd, SOL_IP, SO_IP_SET, req, &len);
    }
    close(fd);
    return rc;
}

static inline int kr_ipset_index(const char *name) {
    struct ip_set_req_get_set req;
    memset(&req, 0, sizeof(req));
    req.op = IP_SET_OP_GET_BYNAME;
    strncpy(req.set.name, name, IPSET_MAXNAMELEN - 1);
    if (kr_ipset_request(&req) != 0 || req.set.index == IPSET_INVALID_ID) return -1;
    return (int)req.set.index;
}

static inline int kr_ipset_name(int index, char *out, size_t outlen) {
    struct ip_set_req_get_set req;
    memset(&req, 0, sizeof(req));
    req.op = IP_SET_OP_GET_BYINDEX;
    req.set.index = (ip_set_id_t)index;
    if (kr_ipset_request(&req) != 0 || req.set.name[0] == 0) return -1;
    strncpy(out, req.set.name, outlen - 1);
    out[outlen - 1] = 0;
    return 0;
}

// Runs the calling thread in a new network namespace (tests, and the agent's lab mode).
static inline int kr_unshare_net(void) { return (int)syscall(SYS_unshare, 0x40000000 /* CLONE_NEWNET */); }

// Moves the calling thread into the named network namespace (/run/netns/NAME).
static inline int kr_setns_path(const char *path) {
    int fd = open(path, 0 /* O_RDONLY */);
    if (fd < 0) return -1;
    int rc = (int)syscall(SYS_setns, fd, 0x40000000 /* CLONE_NEWNET */);
    close(fd);
    return rc;
}
#endif
