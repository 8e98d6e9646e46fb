import KubeModel

/// Pod egress (`--enable-pod-egress`, on by default, as in kube-router): a pod reaching an address outside the
/// cluster leaves with the node's address, so that the outside host can answer without a route to the pod
/// CIDRs. Traffic stays unchanged between pods (any node's pod CIDR) and towards the nodes themselves. A
/// service VIP needs no exception: IPVS has replaced it by an endpoint before nat POSTROUTING. Pure.
///
/// Per family, two sets kept current from the nodes in the API, as kube-router names them:
/// `kube-router-pod-subnets` (hash:net, every node's pod CIDRs) and `kube-router-node-ips` (hash:ip, every
/// node's InternalIP and ExternalIP); in nat, the chain `KUBE-ROUTER-POD-EGRESS` hooked from POSTROUTING
/// masquerades pod-subnet sources towards what is in neither set.
public enum PodEgress {
    public static let chain = "KUBE-ROUTER-POD-EGRESS"

    public static func podSubnetsSet(_ family: IPAddress.Family) -> String {
        family == .ipv4 ? "kube-router-pod-subnets" : "inet6:kube-router-pod-subnets"
    }
    public static func nodeIPsSet(_ family: IPAddress.Family) -> String {
        family == .ipv4 ? "kube-router-node-ips" : "inet6:kube-router-node-ips"
    }

    public static let natOwner = IPTablesOwner(
        table: "nat", prefixes: [chain], builtins: ["POSTROUTING"], hooksFirst: false)
    public static let setOwner = IPSetOwner(
        prefixes: [
            "kube-router-pod-subnets", "inet6:kube-router-pod-subnets", "kube-router-node-ips",
            "inet6:kube-router-node-ips", "kr-egress-tmp-",
        ], temporaryPrefix: "kr-egress-tmp-")

    /// One family's pieces.
    public struct Plan: Sendable, Equatable {
        public var family: IPAddress.Family
        public var sets: [IPSetSpec]
        public var nat: FirewallPlan
    }

    /// The plan for `family` from every node in the API.
    public static func plan(nodes: [Node], family: IPAddress.Family) -> Plan {
        let subnets = Set(nodes.flatMap(\.podCIDRs).filter { $0.family == family }).sorted {
            $0.description < $1.description
        }
        let addresses = Set(
            nodes.flatMap { node in
                node.addresses.filter { $0.type == "InternalIP" || $0.type == "ExternalIP" }
                    .compactMap { IPAddress($0.address) }
            }
            .filter { $0.family == family }
        ).sorted()
        let sets = [
            IPSetSpec(
                name: podSubnetsSet(family), type: .hashNet, members: subnets.map { .net($0) },
                comment: "the cluster's pod CIDRs", family: family),
            IPSetSpec(
                name: nodeIPsSet(family), type: .hashIP, members: addresses.map { .address($0) },
                comment: "the cluster's node addresses", family: family),
        ]
        let masquerade = Rule(
            chain: chain,
            sets: [
                .init(name: podSubnetsSet(family), flags: ["src"]),
                .init(name: podSubnetsSet(family), flags: ["dst"], negated: true),
                .init(name: nodeIPsSet(family), flags: ["dst"], negated: true),
            ],
            target: .masquerade, comment: "SNAT for pod egress")
        let hook = Rule(chain: "POSTROUTING", target: .jump(chain), comment: "kube-router pod egress")
        let nat = FirewallPlan(
            family: family, sets: [], chains: [.init(name: chain, rules: [masquerade])], hooks: [hook])
        return Plan(family: family, sets: sets, nat: nat)
    }
}
