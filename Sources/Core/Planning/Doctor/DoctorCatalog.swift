import Foundation
import KubeModel

/// What the node checks ask for: the kernel modules and settings the controllers need, the API access
/// the agent needs, and the kube-router issues each check prevents. The reader reads what this names;
/// `NodeDiagnosis` judges it.
public enum DoctorCatalog {
    /// A kernel module a controller needs, and where its presence shows.
    public struct Module: Sendable, Equatable {
        public var name: String
        /// The kernel option that builds it (`IP_VS` for `CONFIG_IP_VS`).
        public var config: String
        /// A path (under the root) that exists only while the module is in the kernel.
        public var probe: String?
        /// Whether the kernel (or libiptc, libipset) loads it on first use; br_netfilter is never loaded
        /// by anyone but modprobe.
        public var loadsOnDemand: Bool
        public var controllers: [DoctorController]
        public var issue: String?
        /// What breaks without it.
        public var purpose: String
    }

    static let firewallAndProxy: [DoctorController] = [.firewall, .serviceProxy]

    public static let modules: [Module] = [
        Module(
            name: "ip_tables", config: "IP_NF_IPTABLES", probe: "/proc/net/ip_tables_names", loadsOnDemand: true,
            controllers: firewallAndProxy, issue: nil, purpose: "the legacy iptables tables kube-router writes"),
        Module(
            name: "xt_set", config: "NETFILTER_XT_SET", probe: nil, loadsOnDemand: true,
            controllers: firewallAndProxy, issue: DoctorIssue.xtSet,
            purpose: "iptables' set match, which every policy and service rule uses"),
        Module(
            name: "ip_set", config: "IP_SET", probe: "/sys/module/ip_set", loadsOnDemand: true,
            controllers: firewallAndProxy, issue: DoctorIssue.setType, purpose: "ipsets"),
        Module(
            name: "ip_set_hash_ip", config: "IP_SET_HASH_IP", probe: nil, loadsOnDemand: true,
            controllers: firewallAndProxy, issue: DoctorIssue.setType,
            purpose: "hash:ip sets (the pods of a policy, service VIPs)"),
        Module(
            name: "ip_set_hash_net", config: "IP_SET_HASH_NET", probe: nil, loadsOnDemand: true,
            controllers: [.firewall], issue: DoctorIssue.setType, purpose: "hash:net sets (ipBlock peers)"),
        Module(
            name: "ip_set_hash_ipport", config: "IP_SET_HASH_IPPORT", probe: nil, loadsOnDemand: true,
            controllers: firewallAndProxy, issue: DoctorIssue.setType,
            purpose: "hash:ip,port sets (named ports, service VIP ports)"),
        Module(
            name: "ip_vs", config: "IP_VS", probe: "/proc/net/ip_vs", loadsOnDemand: true,
            controllers: [.serviceProxy], issue: DoctorIssue.ipvs, purpose: "IPVS, the service proxy's load balancer"),
        Module(
            name: "ip_vs_rr", config: "IP_VS_RR", probe: nil, loadsOnDemand: true,
            controllers: [.serviceProxy], issue: DoctorIssue.ipvs,
            purpose: "IPVS's round-robin scheduler (the default)"),
        Module(
            name: "br_netfilter", config: "BRIDGE_NETFILTER", probe: "/proc/sys/net/bridge", loadsOnDemand: false,
            controllers: firewallAndProxy, issue: DoctorIssue.brNetfilter,
            purpose: "iptables on bridged traffic (pod to pod on kube-bridge, hairpin service traffic)"),
        Module(
            name: "nf_conntrack", config: "NF_CONNTRACK", probe: "/proc/sys/net/netfilter/nf_conntrack_max",
            loadsOnDemand: true, controllers: firewallAndProxy, issue: nil,
            purpose: "connection tracking (replies to allowed connections, IPVS masquerading)"),
    ]

    /// The sysctls the checks read, by their dotted names.
    public enum Sysctl {
        public static let ipForward = "net.ipv4.ip_forward"
        public static let bridgeCallIPTables = "net.bridge.bridge-nf-call-iptables"
        public static let rpFilterAll = "net.ipv4.conf.all.rp_filter"
        public static let rpFilterDefault = "net.ipv4.conf.default.rp_filter"
        public static let rpFilterBridge = "net.ipv4.conf.kube-bridge.rp_filter"
        public static let ipvsConntrack = "net.ipv4.vs.conntrack"
        public static let conntrackCount = "net.netfilter.nf_conntrack_count"
        public static let conntrackMax = "net.netfilter.nf_conntrack_max"

        public static let all = [
            ipForward, bridgeCallIPTables, rpFilterAll, rpFilterDefault, rpFilterBridge, ipvsConntrack,
            conntrackCount, conntrackMax,
        ]
    }

    /// What the agent reads from the API, per controller: list and watch across namespaces, nothing else.
    /// The one list: the agent's informers follow exactly these resources (`KubeRouter.informerResources`),
    /// the node check api-rbac asks for them, and the ClusterRole in `deploy/` grants them (a test compares).
    public static let apiAccess: [(request: AccessReview.Request, controllers: [DoctorController])] = {
        let resources: [(group: String, plural: String, controllers: [DoctorController])] = [
            ("", "nodes", DoctorController.allCases),
            ("", "namespaces", [.firewall]),
            ("", "pods", [.firewall]),
            ("networking.k8s.io", "networkpolicies", [.firewall]),
            // The router announces service IPs (--advertise-*-ip and the services' annotations).
            ("", "services", [.serviceProxy, .router]),
            ("discovery.k8s.io", "endpointslices", [.serviceProxy, .router]),
        ]
        return resources.flatMap { r in
            ["list", "watch"].map {
                (AccessReview.Request(verb: $0, group: r.group, resource: r.plural), r.controllers)
            }
        }
    }()

    /// The access reviews to ask for `enabled` controllers.
    public static func accessRequests(for enabled: Set<DoctorController>) -> [AccessReview.Request] {
        apiAccess.filter { !enabled.isDisjoint(with: $0.controllers) }.map(\.request)
    }

    /// How the node checks ask their questions: any authenticated user may on a real cluster
    /// (`system:basic-user`), but a server that authorizes only by RBAC rules needs it granted.
    public static let accessReviewCreation = AccessReview.Request(
        verb: "create", group: "authorization.k8s.io", resource: "selfsubjectaccessreviews")

    /// Everything the agent does with the API for `enabled` controllers: what its ClusterRole grants.
    public static func agentAccess(for enabled: Set<DoctorController>) -> [AccessReview.Request] {
        accessRequests(for: enabled) + [accessReviewCreation]
    }

    /// Route protocol numbers that are the kernel's own (`proto kernel`) or kube-router's.
    public static let kernelRouteProtocol: UInt8 = 2
}
