// libnl-3, libnl-route-3, libnl-genl-3 and libnl-nf-3: links, addresses, routes, IPVS over generic netlink, NFLOG.
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

#include <netlink/genl/ctrl.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <linux/ip_vs.h>
#include <string.h>

// IPVS over generic netlink. Services and destinations cross the C boundary as plain structs; the
// nested attributes are built and parsed here (nla_for_each_nested and friends are macros).
struct kr_ipvs_service {
    uint16_t af;
    uint16_t protocol;
    uint8_t addr[16];
    uint16_t port;        // host order
    uint32_t fwmark;
    char sched[IP_VS_SCHEDNAME_MAXLEN];
    uint32_t flags;
    uint32_t timeout;
    uint32_t netmask;
    uint64_t conns, inpkts, outpkts, inbytes, outbytes, cps, inpps, outpps, inbps, outbps;
};

struct kr_ipvs_dest {
    uint16_t af;
    uint8_t addr[16];
    uint16_t port;        // host order
    uint32_t fwd;
    int32_t weight;
    uint32_t u_thresh, l_thresh;
    uint32_t active, inactive, persistent;
    uint64_t conns, inpkts, outpkts, inbytes, outbytes, cps, inpps, outpps, inbps, outbps;
};

/// The kernel's connection timeouts in seconds (ipvsadm --set tcp tcpfin udp); 0 leaves one unchanged.
struct kr_ipvs_timeouts {
    uint32_t tcp, tcp_fin, udp;
};

static inline int kr_ipvs_parse_timeouts(struct nl_msg *msg, struct kr_ipvs_timeouts *out) {
    struct nlattr *cmd[IPVS_CMD_ATTR_MAX + 1];
    if (genlmsg_parse(nlmsg_hdr(msg), 0, cmd, IPVS_CMD_ATTR_MAX, NULL) < 0) return 0;
    if (cmd[IPVS_CMD_ATTR_TIMEOUT_TCP]) out->tcp = nla_get_u32(cmd[IPVS_CMD_ATTR_TIMEOUT_TCP]);
    if (cmd[IPVS_CMD_ATTR_TIMEOUT_TCP_FIN]) out->tcp_fin = nla_get_u32(cmd[IPVS_CMD_ATTR_TIMEOUT_TCP_FIN]);
    if (cmd[IPVS_CMD_ATTR_TIMEOUT_UDP]) out->udp = nla_get_u32(cmd[IPVS_CMD_ATTR_TIMEOUT_UDP]);
    return 1;
}

static inline int kr_ipvs_put_timeouts(struct nl_msg *msg, const struct kr_ipvs_timeouts *t) {
    if (t->tcp && nla_put_u32(msg, IPVS_CMD_ATTR_TIMEOUT_TCP, t->tcp) < 0) return -1;
    if (t->tcp_fin && nla_put_u32(msg, IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, t->tcp_fin) < 0) return -1;
    if (t->udp && nla_put_u32(msg, IPVS_CMD_ATTR_TIMEOUT_UDP, t->udp) < 0) return -1;
    return 0;
}

static inline int kr_ipvs_put_service(struct nl_msg *msg, const struct kr_ipvs_service *s, int full) {
    struct nlattr *nest = nla_nest_start(msg, IPVS_CMD_ATTR_SERVICE);
    if (!nest) return -1;
    nla_put_u16(msg, IPVS_SVC_ATTR_AF, s->af);
    if (s->fwmark) {
        nla_put_u32(msg, IPVS_SVC_ATTR_FWMARK, s->fwmark);
    } else {
        nla_put_u16(msg, IPVS_SVC_ATTR_PROTOCOL, s->protocol);
        nla_put(msg, IPVS_SVC_ATTR_ADDR, s->af == AF_INET6 ? 16 : 4, s->addr);
        nla_put_u16(msg, IPVS_SVC_ATTR_PORT, htons(s->port));
    }
    if (full) {
        struct ip_vs_flags flags = { .flags = s->flags, .mask = ~0u };
        nla_put_string(msg, IPVS_SVC_ATTR_SCHED_NAME, s->sched);
        nla_put(msg, IPVS_SVC_ATTR_FLAGS, sizeof(flags), &flags);
        nla_put_u32(msg, IPVS_SVC_ATTR_TIMEOUT, s->timeout);
        nla_put_u32(msg, IPVS_SVC_ATTR_NETMASK, s->netmask);
    }
    nla_nest_end(msg, nest);
    return 0;
}

static inline int kr_ipvs_put_dest(struct nl_msg *msg, const struct kr_ipvs_dest *d, int full) {
    struct nlattr *nest = nla_nest_start(msg, IPVS_CMD_ATTR_DEST);
    if (!nest) return -1;
    nla_put(msg, IPVS_DEST_ATTR_ADDR, d->af == AF_INET6 ? 16 : 4, d->addr);
    nla_put_u16(msg, IPVS_DEST_ATTR_PORT, htons(d->port));
    nla_put_u16(msg, IPVS_DEST_ATTR_ADDR_FAMILY, d->af);
    if (full) {
        nla_put_u32(msg, IPVS_DEST_ATTR_FWD_METHOD, d->fwd);
        nla_put_u32(msg, IPVS_DEST_ATTR_WEIGHT, (uint32_t)d->weight);
        nla_put_u32(msg, IPVS_DEST_ATTR_U_THRESH, d->u_thresh);
        nla_put_u32(msg, IPVS_DEST_ATTR_L_THRESH, d->l_thresh);
    }
    nla_nest_end(msg, nest);
    return 0;
}

static inline void kr_ipvs_stats(struct nlattr *stats, int wide, uint64_t *conns, uint64_t *inpkts, uint64_t *outpkts,
                                 uint64_t *inbytes, uint64_t *outbytes, uint64_t *cps, uint64_t *inpps, uint64_t *outpps,
                                 uint64_t *inbps, uint64_t *outbps) {
    struct nlattr *tb[IPVS_STATS_ATTR_MAX + 1];
    if (!stats || nla_parse_nested(tb, IPVS_STATS_ATTR_MAX, stats, NULL) < 0) return;
#define KR_GET(attr, out) if (out && tb[attr]) *out = wide || attr == IPVS_STATS_ATTR_INBYTES || attr == IPVS_STATS_ATTR_OUTBYTES ? nla_get_u64(tb[attr]) : nla_get_u32(tb[attr]);
    KR_GET(IPVS_STATS_ATTR_CONNS, conns) KR_GET(IPVS_STATS_ATTR_INPKTS, inpkts) KR_GET(IPVS_STATS_ATTR_OUTPKTS, outpkts)
    KR_GET(IPVS_STATS_ATTR_INBYTES, inbytes) KR_GET(IPVS_STATS_ATTR_OUTBYTES, outbytes) KR_GET(IPVS_STATS_ATTR_CPS, cps)
    KR_GET(IPVS_STATS_ATTR_INPPS, inpps) KR_GET(IPVS_STATS_ATTR_OUTPPS, outpps) KR_GET(IPVS_STATS_ATTR_INBPS, inbps)
    KR_GET(IPVS_STATS_ATTR_OUTBPS, outbps)
#undef KR_GET
}

// One reply of a dump: returns 1 and fills `out` when it holds a service.
static inline int kr_ipvs_parse_service(struct nl_msg *msg, struct kr_ipvs_service *out) {
    struct nlattr *cmd[IPVS_CMD_ATTR_MAX + 1], *svc[IPVS_SVC_ATTR_MAX + 1];
    memset(out, 0, sizeof(*out));
    if (genlmsg_parse(nlmsg_hdr(msg), 0, cmd, IPVS_CMD_ATTR_MAX, NULL) < 0 || !cmd[IPVS_CMD_ATTR_SERVICE]) return 0;
    if (nla_parse_nested(svc, IPVS_SVC_ATTR_MAX, cmd[IPVS_CMD_ATTR_SERVICE], NULL) < 0) return 0;
    if (svc[IPVS_SVC_ATTR_AF]) out->af = nla_get_u16(svc[IPVS_SVC_ATTR_AF]);
    if (svc[IPVS_SVC_ATTR_PROTOCOL]) out->protocol = nla_get_u16(svc[IPVS_SVC_ATTR_PROTOCOL]);
    if (svc[IPVS_SVC_ATTR_ADDR]) memcpy(out->addr, nla_data(svc[IPVS_SVC_ATTR_ADDR]), nla_len(svc[IPVS_SVC_ATTR_ADDR]) > 16 ? 16 : nla_len(svc[IPVS_SVC_ATTR_ADDR]));
    if (svc[IPVS_SVC_ATTR_PORT]) out->port = ntohs(nla_get_u16(svc[IPVS_SVC_ATTR_PORT]));
    if (svc[IPVS_SVC_ATTR_FWMARK]) out->fwmark = nla_get_u32(svc[IPVS_SVC_ATTR_FWMARK]);
    if (svc[IPVS_SVC_ATTR_SCHED_NAME]) strncpy(out->sched, nla_get_string(svc[IPVS_SVC_ATTR_SCHED_NAME]), sizeof(out->sched) - 1);
    if (svc[IPVS_SVC_ATTR_FLAGS]) { struct ip_vs_flags f; memcpy(&f, nla_data(svc[IPVS_SVC_ATTR_FLAGS]), sizeof(f)); out->flags = f.flags; }
    if (svc[IPVS_SVC_ATTR_TIMEOUT]) out->timeout = nla_get_u32(svc[IPVS_SVC_ATTR_TIMEOUT]);
    if (svc[IPVS_SVC_ATTR_NETMASK]) out->netmask = nla_get_u32(svc[IPVS_SVC_ATTR_NETMASK]);
    int wide = svc[IPVS_SVC_ATTR_STATS64] != NULL;
    kr_ipvs_stats(wide ? svc[IPVS_SVC_ATTR_STATS64] : svc[IPVS_SVC_ATTR_STATS], wide, &out->conns, &out->inpkts, &out->outpkts,
                  &out->inbytes, &out->outbytes, &out->cps, &out->inpps, &out->outpps, &out->inbps, &out->outbps);
    return 1;
}

static inline int kr_ipvs_parse_dest(struct nl_msg *msg, struct kr_ipvs_dest *out) {
    struct nlattr *cmd[IPVS_CMD_ATTR_MAX + 1], *d[IPVS_DEST_ATTR_MAX + 1];
    memset(out, 0, sizeof(*out));
    if (genlmsg_parse(nlmsg_hdr(msg), 0, cmd, IPVS_CMD_ATTR_MAX, NULL) < 0 || !cmd[IPVS_CMD_ATTR_DEST]) return 0;
    if (nla_parse_nested(d, IPVS_DEST_ATTR_MAX, cmd[IPVS_CMD_ATTR_DEST], NULL) < 0) return 0;
    if (d[IPVS_DEST_ATTR_ADDR_FAMILY]) out->af = nla_get_u16(d[IPVS_DEST_ATTR_ADDR_FAMILY]);
    if (d[IPVS_DEST_ATTR_ADDR]) memcpy(out->addr, nla_data(d[IPVS_DEST_ATTR_ADDR]), nla_len(d[IPVS_DEST_ATTR_ADDR]) > 16 ? 16 : nla_len(d[IPVS_DEST_ATTR_ADDR]));
    if (d[IPVS_DEST_ATTR_PORT]) out->port = ntohs(nla_get_u16(d[IPVS_DEST_ATTR_PORT]));
    if (d[IPVS_DEST_ATTR_FWD_METHOD]) out->fwd = nla_get_u32(d[IPVS_DEST_ATTR_FWD_METHOD]);
    if (d[IPVS_DEST_ATTR_WEIGHT]) out->weight = (int32_t)nla_get_u32(d[IPVS_DEST_ATTR_WEIGHT]);
    if (d[IPVS_DEST_ATTR_U_THRESH]) out->u_thresh = nla_get_u32(d[IPVS_DEST_ATTR_U_THRESH]);
    if (d[IPVS_DEST_ATTR_L_THRESH]) out->l_thresh = nla_get_u32(d[IPVS_DEST_ATTR_L_THRESH]);
    if (d[IPVS_DEST_ATTR_ACTIVE_CONNS]) out->active = nla_get_u32(d[IPVS_DEST_ATTR_ACTIVE_CONNS]);
    if (d[IPVS_DEST_ATTR_INACT_CONNS]) out->inactive = nla_get_u32(d[IPVS_DEST_ATTR_INACT_CONNS]);
    if (d[IPVS_DEST_ATTR_PERSIST_CONNS]) out->persistent = nla_get_u32(d[IPVS_DEST_ATTR_PERSIST_CONNS]);
    int wide = d[IPVS_DEST_ATTR_STATS64] != NULL;
    kr_ipvs_stats(wide ? d[IPVS_DEST_ATTR_STATS64] : d[IPVS_DEST_ATTR_STATS], wide, &out->conns, &out->inpkts, &out->outpkts,
                  &out->inbytes, &out->outbytes, &out->cps, &out->inpps, &out->outpps, &out->inbps, &out->outbps);
    return 1;
}

static inline void *kr_genlmsg_put(struct nl_msg *msg, int family, int flags, uint8_t cmd) {
    return genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, flags, cmd, IPVS_GENL_VERSION);
}


// --- Links, addresses and route lookups (NETLINK_ROUTE) ---
#include <stdlib.h>
#include <net/if.h>

static inline struct rtnl_addr *kr_addr_first(struct nl_cache *cache) { return (struct rtnl_addr *)nl_cache_get_first(cache); }
static inline struct rtnl_addr *kr_addr_next(struct rtnl_addr *a) { return (struct rtnl_addr *)nl_cache_get_next((struct nl_object *)a); }

/// What the kernel answers to `ip route get`: the output interface, the gateway and the preferred
/// source (when there are), the route's type, table and protocol.
struct kr_route_answer {
    int error;
    uint32_t oif;
    int has_gateway;
    uint8_t gateway[16];
    int has_source;
    uint8_t source[16];
    uint8_t type;
    uint8_t protocol;
    uint32_t table;
};

/// RTM_GETROUTE for one address, on a socket with auto-ACK off: the reply is one route message or an error.
static inline int kr_route_get(struct nl_sock *sk, int family, const void *addr, int len, struct kr_route_answer *out) {
    memset(out, 0, sizeof(*out));
    struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETROUTE, 0);
    if (!msg) return -NLE_NOMEM;
    struct rtmsg rtm;
    memset(&rtm, 0, sizeof(rtm));
    rtm.rtm_family = family;
    rtm.rtm_dst_len = len * 8;
    if (nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 || nla_put(msg, RTA_DST, len, addr) < 0) { nlmsg_free(msg); return -NLE_NOMEM; }
    int rc = nl_send_auto(sk, msg);
    nlmsg_free(msg);
    if (rc < 0) return rc;
    struct sockaddr_nl peer;
    unsigned char *buf = NULL;
    int n = nl_recv(sk, &peer, &buf, NULL);
    if (n <= 0) { free(buf); return n < 0 ? n : -NLE_FAILURE; }
    struct nlmsghdr *hdr = (struct nlmsghdr *)buf;
    if (!nlmsg_ok(hdr, n)) { free(buf); return -NLE_MSG_TRUNC; }
    if (hdr->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = nlmsg_data(hdr);
        out->error = -e->error;
        free(buf);
        return 0;
    }
    struct rtmsg *r = nlmsg_data(hdr);
    out->type = r->rtm_type;
    out->protocol = r->rtm_protocol;
    out->table = r->rtm_table;
    struct nlattr *tb[RTA_MAX + 1];
    if (nlmsg_parse(hdr, sizeof(struct rtmsg), tb, RTA_MAX, NULL) < 0) { free(buf); return -NLE_PARSE_ERR; }
    if (tb[RTA_OIF]) out->oif = nla_get_u32(tb[RTA_OIF]);
    if (tb[RTA_TABLE]) out->table = nla_get_u32(tb[RTA_TABLE]);
    if (tb[RTA_GATEWAY] && nla_len(tb[RTA_GATEWAY]) <= 16) { out->has_gateway = 1; memcpy(out->gateway, nla_data(tb[RTA_GATEWAY]), nla_len(tb[RTA_GATEWAY])); }
    if (tb[RTA_PREFSRC] && nla_len(tb[RTA_PREFSRC]) <= 16) { out->has_source = 1; memcpy(out->source, nla_data(tb[RTA_PREFSRC]), nla_len(tb[RTA_PREFSRC])); }
    free(buf);
    return 0;
}


// --- NFLOG (NETLINK_NETFILTER, subsystem ULOG) through libnl-nf-3 ---
#include <netlink/netfilter/nfnl.h>
#include <netlink/netfilter/log.h>
#include <netlink/netfilter/log_msg.h>
#include <netlink/netfilter/ct.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <sys/socket.h>
#include <poll.h>
#include <errno.h>

/// The most of a packet a sample keeps (L3 + L4 headers).
#define KR_NFLOG_PAYLOAD_MAX 128

/// One logged packet, as plain values.
struct kr_nflog_sample {
    uint16_t group;
    uint8_t family;
    uint8_t hook;
    uint32_t indev, outdev, physindev, physoutdev;
    int has_seq;
    uint32_t seq;
    int has_seq_global;
    uint32_t seq_global;
    int64_t sec;
    int64_t usec;
    char prefix[65];
    uint16_t payload_len;
    uint8_t payload[KR_NFLOG_PAYLOAD_MAX];
    /// Conntrack's original destination (the service VIP before IPVS), when the kernel gave conntrack data.
    int has_ct;
    uint8_t ct_family;
    uint8_t ct_dst[16];
    uint16_t ct_dst_port;
};

/// Route changes pipelined: every request of the window is sent before any ACK is read (one round trip per
/// window instead of per route). `ops[i]`: 0 add (NLM_F_CREATE|NLM_F_EXCL), 1 replace (NLM_F_CREATE|
/// NLM_F_REPLACE), 2 delete. `results[i]`: 0, or the kernel's errno (positive) for request i. Keep windows
/// small enough for the socket's receive buffer to hold their ACKs (a few hundred). Returns 0, or a negative
/// libnl error when the socket failed (then the results are incomplete: those not answered stay -1).
static inline int kr_route_window(struct nl_sock *sk, struct rtnl_route **routes, const int *ops, int count,
                                  int *results) {
    uint32_t first = 0;
    for (int i = 0; i < count; i++) {
        results[i] = -1;
        struct nl_msg *msg = NULL;
        int rc = ops[i] == 2 ? rtnl_route_build_del_request(routes[i], 0, &msg)
                             : rtnl_route_build_add_request(routes[i],
                                   NLM_F_CREATE | (ops[i] == 1 ? NLM_F_REPLACE : NLM_F_EXCL), &msg);
        if (rc < 0) return rc;
        nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
        nl_complete_msg(sk, msg);
        if (i == 0) first = nlmsg_hdr(msg)->nlmsg_seq;
        rc = nl_send(sk, msg);
        nlmsg_free(msg);
        if (rc < 0) return rc;
    }
    int answered = 0;
    while (answered < count) {
        struct sockaddr_nl peer;
        unsigned char *buf = NULL;
        int n = nl_recv(sk, &peer, &buf, NULL);
        if (n <= 0) { free(buf); return n < 0 ? n : -NLE_FAILURE; }
        struct nlmsghdr *hdr = (struct nlmsghdr *)buf;
        int left = n;
        while (nlmsg_ok(hdr, left)) {
            if (hdr->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *e = nlmsg_data(hdr);
                uint32_t index = hdr->nlmsg_seq - first;
                if (index < (uint32_t)count && results[index] == -1) {
                    results[index] = -e->error;
                    answered++;
                }
            }
            hdr = nlmsg_next(hdr, &left);
        }
        free(buf);
    }
    return 0;
}

static inline int kr_nflog_connect(struct nl_sock *sk) {
    nl_socket_disable_seq_check(sk);
    return nl_connect(sk, NETLINK_NETFILTER);
}

/// Binds one group (never the family: PF_UNBIND would clear every other listener's logger). Returns 0 or a
/// negative NLE_* (NLE_PERM: another socket holds the group; NLE_BUSY: this one does; NLE_OPNOTSUPP: no
/// conntrack data in this kernel).
static inline int kr_nflog_bind(struct nl_sock *sk, uint16_t group, uint32_t range, int conntrack) {
    struct nfnl_log *log = nfnl_log_alloc();
    if (!log) return -NLE_NOMEM;
    nfnl_log_set_group(log, group);
    nfnl_log_set_copy_mode(log, NFNL_LOG_COPY_PACKET);
    nfnl_log_set_copy_range(log, range);
    nfnl_log_set_flush_timeout(log, 10);
    nfnl_log_set_flags(log, NFNL_LOG_FLAG_SEQ | NFNL_LOG_FLAG_SEQ_GLOBAL | (conntrack ? NFNL_LOG_FLAG_CONNTRACK : 0));
    int rc = nfnl_log_create(sk, log);
    nfnl_log_put(log);
    return rc;
}

/// Unbinds one group (NFULNL_CFG_CMD_UNBIND for that group only).
static inline int kr_nflog_unbind(struct nl_sock *sk, uint16_t group) {
    struct nfnl_log *log = nfnl_log_alloc();
    if (!log) return -NLE_NOMEM;
    nfnl_log_set_group(log, group);
    int rc = nfnl_log_delete(sk, log);
    nfnl_log_put(log);
    return rc;
}

/// Asks for a receive buffer of `bytes` (SO_RCVBUFFORCE as root, else SO_RCVBUF up to rmem_max).
static inline int kr_nflog_set_buffer(struct nl_sock *sk, int bytes) {
    int fd = nl_socket_get_fd(sk);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) == 0) return 0;
    return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

static inline void kr_nflog_fill(struct nfnl_log_msg *m, struct kr_nflog_sample *s) {
    memset(s, 0, sizeof(*s));
    s->family = nfnl_log_msg_get_family(m);
    s->hook = nfnl_log_msg_get_hook(m);
    s->indev = nfnl_log_msg_get_indev(m);
    s->outdev = nfnl_log_msg_get_outdev(m);
    s->physindev = nfnl_log_msg_get_physindev(m);
    s->physoutdev = nfnl_log_msg_get_physoutdev(m);
    if (nfnl_log_msg_test_seq(m)) { s->has_seq = 1; s->seq = nfnl_log_msg_get_seq(m); }
    if (nfnl_log_msg_test_seq_global(m)) { s->has_seq_global = 1; s->seq_global = nfnl_log_msg_get_seq_global(m); }
    const struct timeval *tv = nfnl_log_msg_get_timestamp(m);
    if (tv) { s->sec = tv->tv_sec; s->usec = tv->tv_usec; }
    const char *prefix = nfnl_log_msg_get_prefix(m);
    if (prefix) strncpy(s->prefix, prefix, sizeof(s->prefix) - 1);
    int len = 0;
    const void *payload = nfnl_log_msg_get_payload(m, &len);
    if (payload && len > 0) {
        if (len > KR_NFLOG_PAYLOAD_MAX) len = KR_NFLOG_PAYLOAD_MAX;
        memcpy(s->payload, payload, len);
        s->payload_len = (uint16_t)len;
    }
    struct nfnl_ct *ct = nfnl_log_msg_test_ct(m) ? nfnl_log_msg_get_ct(m) : NULL;
    if (ct) {
        struct nl_addr *dst = nfnl_ct_get_dst(ct, 0);
        if (dst && nl_addr_get_len(dst) <= 16) {
            s->has_ct = 1;
            s->ct_family = (uint8_t)nl_addr_get_family(dst);
            memcpy(s->ct_dst, nl_addr_get_binary_addr(dst), nl_addr_get_len(dst));
            if (nfnl_ct_test_dst_port(ct, 0)) s->ct_dst_port = nfnl_ct_get_dst_port(ct, 0);
        }
    }
}

/// Waits up to `timeout_ms` for one datagram and parses the packets in it into `out` (at most `max`).
/// Returns the number of samples (0 on timeout), -ENOBUFS when the kernel dropped messages for lack of
/// room in our buffer, or another negative errno. `group` of each sample is the message's res_id.
static inline int kr_nflog_receive(struct nl_sock *sk, int timeout_ms, struct kr_nflog_sample *out, int max,
                                   uint8_t *buffer, int size) {
    int fd = nl_socket_get_fd(sk);
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int ready = poll(&p, 1, timeout_ms);
    if (ready < 0) return errno == EINTR ? 0 : -errno;
    if (ready == 0) return 0;
    ssize_t n = recv(fd, buffer, size, MSG_DONTWAIT);
    if (n < 0) return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
    int count = 0;
    int remaining = (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buffer; nlmsg_ok(h, remaining) && count < max;
         h = nlmsg_next(h, &remaining)) {
        if (h->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET)) continue;
        struct nfnl_log_msg *m = NULL;
        if (nfnlmsg_log_msg_parse(h, &m) < 0 || !m) continue;
        kr_nflog_fill(m, &out[count]);
        struct nfgenmsg *g = nlmsg_data(h);
        out[count].group = ntohs(g->res_id);
        nfnl_log_msg_put(m);
        count++;
    }
    return count;
}

// LIBNL_STRING is a macro; expose the compiled-in version as a function.
static inline const char *kr_nl_version(void) { return LIBNL_STRING; }
#endif
