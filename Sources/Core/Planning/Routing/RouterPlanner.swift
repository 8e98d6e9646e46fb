import Foundation
import KubeModel

/// How the node routes pods over BGP, from kube-router's flags.
public struct RouterSettings: Sendable {
    public var clusterASN: UInt32
    public var fullMesh: Bool
    /// `--peer-router-ips/asns/passwords/ports`: external routers every node peers with.
    public var externalPeers: [BGPPeerConfig]
    public var routerID: IPAddress?
    /// `--service-cluster-ip-range` and `--service-external-ip-range`: never installed from a peer.
    public var serviceRanges: [CIDR]
    /// `--bgp-import-reject`: nothing inside these is installed from a peer.
    public var importRejects: [CIDR]
    /// The networks connected to this node (read from its kernel by the caller): nothing inside them is
    /// installed from a peer.
    public var localNetworks: [CIDR] = []

    public init(
        clusterASN: UInt32 = 64512, fullMesh: Bool = true, externalPeers: [BGPPeerConfig] = [],
        routerID: IPAddress? = nil, serviceRanges: [CIDR] = [], importRejects: [CIDR] = []
    ) {
        self.clusterASN = clusterASN
        self.fullMesh = fullMesh
        self.externalPeers = externalPeers
        self.routerID = routerID
        self.serviceRanges = serviceRanges
        self.importRejects = importRejects
    }

    /// A comma-separated list of CIDRs (a flag or an annotation); an error names `origin` and the value.
    public static func cidrs(_ text: String, origin: String) throws -> [CIDR] {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return try items.map { item in
            guard let cidr = CIDR(item) else {
                throw RouterConfigError("\(origin): \"\(item)\" is not a CIDR (such as 10.96.0.0/12 or fd00::/108)")
            }
            return cidr
        }
    }

    /// Parses kube-router's comma-separated peer flags (passwords base64, as upstream); the lists must
    /// line up with the addresses (ports and passwords may be left out).
    public static func peers(
        ips: String, asns: String, passwords: String, ports: String, defaultPort: UInt16,
        origin: String
    ) throws -> [BGPPeerConfig] {
        // Empty entries count (a peer without a password between two with one); an empty flag is no list.
        func list(_ s: String) -> [String] {
            s.trimmingCharacters(in: .whitespaces).isEmpty
                ? []
                : s.split(separator: ",", omittingEmptySubsequences: false).map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
        }
        let ipList = list(ips)
        let asnList = list(asns)
        let passwordList = list(passwords)
        let portList = list(ports)
        guard asnList.count == ipList.count else {
            throw RouterConfigError(
                "\(origin): \(ipList.count) peer address(es) but \(asnList.count) ASN(s); give one ASN per address")
        }
        guard passwordList.isEmpty || passwordList.count == ipList.count else {
            throw RouterConfigError("\(origin): \(ipList.count) peer address(es) but \(passwordList.count) password(s)")
        }
        guard portList.isEmpty || portList.count == ipList.count else {
            throw RouterConfigError("\(origin): \(ipList.count) peer address(es) but \(portList.count) port(s)")
        }
        return try ipList.enumerated().map { i, text in
            guard let address = IPAddress(text) else {
                throw RouterConfigError("\(origin): \"\(text)\" is not an IP address")
            }
            guard let asn = UInt32(asnList[i]), asn > 0 else {
                throw RouterConfigError("\(origin): \"\(asnList[i])\" is not an AS number (1-4294967295)")
            }
            var password: String?
            if !passwordList.isEmpty, !passwordList[i].isEmpty {
                guard let data = Data(base64Encoded: passwordList[i]), let text = String(data: data, encoding: .utf8)
                else {
                    throw RouterConfigError("\(origin): password \(i + 1) is not base64")
                }
                password = text
            }
            var port = defaultPort
            if !portList.isEmpty {
                guard let p = UInt16(portList[i]), p > 0 else {
                    throw RouterConfigError("\(origin): \"\(portList[i])\" is not a port")
                }
                port = p
            }
            return BGPPeerConfig(address: address, asn: asn, port: port, password: password, origin: origin)
        }
    }
}

public struct RouterConfigError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What the router of one node must do, from the cluster's nodes: its AS and router ID, the
/// prefixes it advertises (its pod CIDRs), and its peers. Pure.
public struct RouterPlan: Sendable, Equatable {
    public var localASN: UInt32
    public var routerID: IPAddress?
    public var advertised: [CIDR]
    public var peers: [BGPPeerConfig]
    /// Which learned routes may be installed: from the nodes' pod CIDRs and addresses, the flags and annotations.
    public var importPolicy: BGPImportPolicy
    /// Problems with the cluster's data (a bad annotation), named by node and annotation; the rest
    /// of the plan stands.
    public var problems: [String]
}

public enum RouterPlanner {
    public static let nodeASNAnnotation = "kube-router.io/node.asn"
    public static let importRejectAnnotation = "kube-router.io/node.bgp.customimportreject"
    public static let peerAnnotations = (
        ips: "kube-router.io/peer.ips", asns: "kube-router.io/peer.asns",
        passwords: "kube-router.io/peer.passwords", ports: "kube-router.io/peer.ports"
    )

    public static func plan(
        node name: String, nodes: [String: Node], settings: RouterSettings, bgpPort: UInt16
    ) -> RouterPlan {
        var problems: [String] = []
        func asn(of node: Node) -> UInt32 {
            guard let text = node.meta.annotations[nodeASNAnnotation] else { return settings.clusterASN }
            guard let value = UInt32(text), value > 0 else {
                problems.append(
                    "node \(node.name): annotation \(nodeASNAnnotation)=\"\(text)\" is not an AS number; "
                        + "using \(settings.clusterASN)"
                )
                return settings.clusterASN
            }
            return value
        }
        guard let me = nodes[name] else {
            return RouterPlan(
                localASN: settings.clusterASN, routerID: settings.routerID, advertised: [],
                peers: settings.externalPeers,
                importPolicy: importPolicy(
                    node: name, nodes: nodes, settings: settings,
                    problems: &problems),
                problems: ["node \(name) is not in the API (yet): no pod CIDR to advertise"])
        }
        let localASN = asn(of: me)
        let routerID = settings.routerID ?? me.internalIPs.first { $0.family == .ipv4 }
        var peers: [BGPPeerConfig] = []
        if settings.fullMesh {
            for node in nodes.values.sorted(by: { $0.name < $1.name }) where node.name != name {
                let nodeASN = asn(of: node)
                // As kube-router: the mesh is among the nodes of one AS; others are reached through routers.
                guard nodeASN == localASN else { continue }
                for address in node.internalIPs where me.internalIPs.contains(where: { $0.family == address.family }) {
                    peers.append(
                        BGPPeerConfig(address: address, asn: nodeASN, port: bgpPort, origin: "node \(node.name)"))
                }
            }
        }
        peers += settings.externalPeers
        let a = peerAnnotations
        if me.meta.annotations[a.ips] != nil {
            do {
                peers += try RouterSettings.peers(
                    ips: me.meta.annotations[a.ips] ?? "", asns: me.meta.annotations[a.asns] ?? "",
                    passwords: me.meta.annotations[a.passwords] ?? "", ports: me.meta.annotations[a.ports] ?? "",
                    defaultPort: bgpPort, origin: "node \(name) annotation \(a.ips)")
            } catch {
                problems.append("\(error)")
            }
        }
        // One session per address: the first definition wins (mesh, then flags, then annotations).
        var seen = Set<IPAddress>()
        peers = peers.filter { seen.insert($0.address).inserted }
        if me.podCIDRs.isEmpty { problems.append("node \(name) has no spec.podCIDR yet: nothing to advertise") }
        let policy = importPolicy(node: name, nodes: nodes, settings: settings, problems: &problems)
        return RouterPlan(
            localASN: localASN, routerID: routerID, advertised: me.podCIDRs, peers: peers,
            importPolicy: policy, problems: problems)
    }

    /// The import policy of node `name`: every node's pod CIDRs (accepted only from that node), this node's
    /// addresses, the service ranges and the reject ranges of the flag and of this node's annotation.
    static func importPolicy(
        node name: String, nodes: [String: Node], settings: RouterSettings,
        problems: inout [String]
    ) -> BGPImportPolicy {
        let me = nodes[name]
        var rejects = settings.importRejects
        if let text = me?.meta.annotations[importRejectAnnotation] {
            // A bad entry is reported; the others still apply.
            let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            for item in items where !item.isEmpty {
                if let cidr = CIDR(item) {
                    rejects.append(cidr)
                } else {
                    problems.append(
                        "node \(name): annotation \(importRejectAnnotation): "
                            + "\"\(item)\" is not a CIDR; ignored")
                }
            }
        }
        func addresses(_ node: Node) -> [IPAddress] { node.addresses.compactMap { IPAddress($0.address) } }
        let others = nodes.values.filter { $0.name != name }.sorted { $0.name < $1.name }
            .map { BGPImportPolicy.NodePods(name: $0.name, podCIDRs: $0.podCIDRs, addresses: addresses($0)) }
        return BGPImportPolicy(
            localNode: name, localPodCIDRs: me?.podCIDRs ?? [],
            localAddresses: me.map(addresses) ?? [], localNetworks: settings.localNetworks,
            nodes: others,
            serviceRanges: settings.serviceRanges, customRejects: rejects)
    }
}
