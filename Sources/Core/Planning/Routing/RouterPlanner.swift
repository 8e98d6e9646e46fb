import Foundation
import KubeModel

public enum RouterPlanner {
    public static let nodeASNAnnotation = "kube-router.io/node.asn"
    public static let importRejectAnnotation = "kube-router.io/node.bgp.customimportreject"
    public static let peerAnnotations = (
        ips: "kube-router.io/peer.ips", asns: "kube-router.io/peer.asns",
        passwords: "kube-router.io/peer.passwords", ports: "kube-router.io/peer.ports"
    )

    /// `services` and `slices`: the cluster's, for the service IPs this node announces (`settings.advertise`).
    public static func plan(
        node name: String, nodes: [String: Node], settings: RouterSettings, bgpPort: UInt16,
        services: [String: Service] = [:], slices: [String: EndpointSlice] = [:]
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
        let services = settings.advertise.routes(node: name, services: services, slices: slices)
        return RouterPlan(
            localASN: localASN, routerID: routerID, advertised: me.podCIDRs, peers: peers,
            importPolicy: policy, problems: problems + services.problems, serviceRoutes: services.routes)
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
