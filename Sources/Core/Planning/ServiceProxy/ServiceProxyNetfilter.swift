import KubeModel

/// The iptables and ipset pieces IPVS needs on a node, planned from a `ServiceProxyPlan`. Pure.
///
/// - `kube-router-svip` (hash:ip) holds the VIPs, `kube-router-svip-prt` (hash:ip,port) the VIP,
///   protocol and port of every service. In filter INPUT, TCP, UDP and SCTP to a VIP on a port no
///   service has is rejected: a VIP is local on `kube-dummy-if`, and must not expose the node's own
///   daemons (sshd on a ClusterIP). ICMP to a VIP still answers.
/// - In nat POSTROUTING, packets IPVS forwards in NAT mode are masqueraded when the reply would not
///   come back through this node otherwise: clients that are not this node's pods (NodePort and
///   external IPs from outside) towards endpoints that are not this node's pods. Pods keep their
///   source address, so NetworkPolicy at the endpoint sees the real client. `--masquerade-all`
///   masquerades everything; hairpin services masquerade a pod that reaches itself.
public enum ServiceProxyNetfilter {
    public static let servicesChain = "KUBE-ROUTER-SERVICES"
    public static let masqueradeChain = "KUBE-ROUTER-SVC-MASQ"

    public static func vipSet(_ family: IPAddress.Family) -> String {
        family == .ipv4 ? "kube-router-svip" : "inet6:kube-router-svip"
    }
    public static func vipPortSet(_ family: IPAddress.Family) -> String {
        family == .ipv4 ? "kube-router-svip-prt" : "inet6:kube-router-svip-prt"
    }

    public static let filterOwner = IPTablesOwner(
        table: "filter", prefixes: [servicesChain], builtins: ["INPUT"], hooksFirst: false)
    public static let natOwner = IPTablesOwner(
        table: "nat", prefixes: ["KUBE-ROUTER-SVC-"], builtins: ["POSTROUTING"], hooksFirst: false)
    public static let setOwner = IPSetOwner(
        prefixes: ["kube-router-svip", "inet6:kube-router-svip", "kr-svc-tmp-"], temporaryPrefix: "kr-svc-tmp-")

    /// One family's pieces: the sets, the filter chain and its hook, the nat chain and its hook.
    public struct Plan: Sendable, Equatable {
        public var family: IPAddress.Family
        public var sets: [IPSetSpec]
        public var filter: FirewallPlan
        public var nat: FirewallPlan
    }

    public struct Options: Sendable {
        public var masqueradeAll: Bool
        /// The node's pod CIDRs: their pods keep their address, and reply through this node anyway.
        public var podCIDRs: [CIDR]
        public init(masqueradeAll: Bool = false, podCIDRs: [CIDR] = []) {
            self.masqueradeAll = masqueradeAll
            self.podCIDRs = podCIDRs
        }
    }

    /// What `plan` reads of one service's part: its VIPs, each virtual service's address, protocol and port (and
    /// whether it is a node port), and the endpoints of hairpin services. An event whose services all read the
    /// same leaves the netfilter plan as it was: an endpoint change of an ordinary service, the usual event.
    struct Inputs: Equatable {
        struct Service: Equatable {
            var address: IPAddress
            var proto: PortProtocol
            var port: UInt16
            var nodePort: Bool
            var hairpinEndpoints: [IPAddress]
        }
        var vips: [IPAddress]
        var services: [Service]

        init(_ part: ServicePlan?) {
            vips = part?.vips ?? []
            services = (part?.services ?? []).map {
                Service(
                    address: $0.service.address, proto: $0.service.proto, port: $0.service.port,
                    nodePort: $0.kind == .nodePort, hairpinEndpoints: $0.hairpin ? $0.destinations.map(\.address) : [])
            }
        }
    }

    /// Whether a service's part changing from `old` to `new` leaves `plan`'s result as it was (with the same
    /// options).
    public static func unchanged(from old: ServicePlan?, to new: ServicePlan?) -> Bool {
        Inputs(old) == Inputs(new)
    }

    public static func plan(_ proxy: ServiceProxyPlan, family: IPAddress.Family, options: Options) -> Plan {
        let services = proxy.services.filter { $0.service.address.family == family }
        let vips = proxy.vips.filter { $0.family == family }
        var vipPorts = Set<IPSetMember>()
        for planned in services where planned.kind != .nodePort {
            let s = planned.service
            vipPorts.insert(.addressPort(s.address, s.proto, port: s.port))
        }
        let sets = [
            IPSetSpec(
                name: vipSet(family), type: .hashIP, members: vips.map { .address($0) }, comment: "service VIPs",
                family: family),
            IPSetSpec(
                name: vipPortSet(family), type: .hashIPPort,
                members: vipPorts.sorted { $0.restoreText < $1.restoreText },
                comment: "service VIP ports",
                family: family),
        ]

        var guardRules = [
            Rule(
                chain: servicesChain, sets: [.init(name: vipPortSet(family), flags: ["dst", "dst"])], target: .return,
                comment: "traffic to a service port: IPVS takes it")
        ]
        for proto in PortProtocol.allCases {
            guardRules.append(
                Rule(
                    chain: servicesChain, proto: proto, sets: [.init(name: vipSet(family), flags: ["dst"])],
                    target: .reject,
                    comment: "a service VIP on a port no service has: the node's own daemons stay unexposed"))
        }
        let filter = FirewallPlan(
            family: family, sets: [], chains: [.init(name: servicesChain, rules: guardRules)],
            hooks: [
                Rule(
                    chain: "INPUT", sets: [.init(name: vipSet(family), flags: ["dst"])], target: .jump(servicesChain),
                    comment: "kube-router service VIPs")
            ])

        var masq: [Rule] = []
        var hairpins = Set<IPAddress>()
        for planned in services where planned.hairpin {
            for destination in planned.destinations { hairpins.insert(destination.address) }
        }
        let host = family == .ipv4 ? 32 : 128
        for endpoint in hairpins.sorted() {
            let cidr = CIDR(network: endpoint, prefixLength: host)
            masq.append(
                Rule(
                    chain: masqueradeChain, source: cidr, destination: cidr, target: .masquerade,
                    comment: "hairpin: endpoint \(endpoint) reaching itself through a service"))
        }
        if !options.masqueradeAll {
            for cidr in options.podCIDRs where cidr.family == family {
                masq.append(
                    Rule(
                        chain: masqueradeChain, source: cidr, target: .return,
                        comment: "this node's pods keep their address"))
                masq.append(
                    Rule(
                        chain: masqueradeChain, destination: cidr, target: .return,
                        comment: "this node's pods reply through it"))
            }
        }
        masq.append(
            Rule(chain: masqueradeChain, target: .masquerade, comment: "the reply must come back through this node"))
        var hook = Rule(chain: "POSTROUTING", target: .jump(masqueradeChain), comment: "kube-router IPVS masquerade")
        hook.ipvsMasquerade = true
        let nat = FirewallPlan(
            family: family, sets: [], chains: [.init(name: masqueradeChain, rules: masq)], hooks: [hook])
        return Plan(family: family, sets: sets, filter: filter, nat: nat)
    }
}
