import Foundation
import KubeModel

public enum RouterPlanner {
    public static let nodeASNAnnotation = "kube-router.io/node.asn"
    public static let importRejectAnnotation = "kube-router.io/node.bgp.customimportreject"
    public static let communitiesAnnotation = "kube-router.io/node.bgp.communities"
    /// Route reflection (RFC 4456), as kube-router: a node with `rr.server` (its cluster ID) reflects; a node
    /// with `rr.client` peers with the `rr.server` nodes alone, and they take it as their client.
    public static let routeReflectorAnnotations = (
        server: "kube-router.io/rr.server", client: "kube-router.io/rr.client"
    )
    public static let prependAnnotations = (
        as: "kube-router.io/path-prepend.as", repeat: "kube-router.io/path-prepend.repeat-n"
    )
    /// The consolidated peers of a node (YAML list of remoteip, remoteasn, localip, password, port); it takes
    /// precedence over the deprecated `kube-router.io/peer.*` annotations.
    public static let peersAnnotation = "kube-router.io/peers"
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
        let role = reflectorRole(me, problems: &problems)
        let rr = routeReflectorAnnotations
        var peers: [BGPPeerConfig] = []
        if settings.fullMesh && settings.iBGP {
            for node in nodes.values.sorted(by: { $0.name < $1.name }) where node.name != name {
                let nodeASN = asn(of: node)
                // As kube-router: the mesh is among the nodes of one AS; others are reached through routers.
                guard nodeASN == localASN else { continue }
                // A route reflector client peers with the reflectors alone; a reflector takes clients as such.
                if case .client = role, node.meta.annotations[rr.server] == nil { continue }
                let client = role.isServer && node.meta.annotations[rr.client] != nil
                for address in node.internalIPs where me.internalIPs.contains(where: { $0.family == address.family }) {
                    var peer = BGPPeerConfig(address: address, asn: nodeASN, port: bgpPort, origin: "node \(node.name)")
                    peer.routeReflectorClient = client
                    peers.append(peer)
                }
            }
        }
        let meshCount = peers.count
        peers += settings.externalPeers
        let a = peerAnnotations
        if let text = me.meta.annotations[peersAnnotation] {
            do {
                peers += try annotatedPeers(text, node: name, defaultPort: bgpPort)
            } catch {
                problems.append("\(error)")
            }
        } else if me.meta.annotations[a.ips] != nil {
            do {
                peers += try RouterSettings.peers(
                    ips: me.meta.annotations[a.ips] ?? "", asns: me.meta.annotations[a.asns] ?? "",
                    passwords: me.meta.annotations[a.passwords] ?? "", ports: me.meta.annotations[a.ports] ?? "",
                    defaultPort: bgpPort, origin: "node \(name) annotation \(a.ips)")
            } catch {
                problems.append("\(error)")
            }
        }
        // What goes to the peers outside the cluster: the node's communities and AS-path prepending.
        let export = exportPolicy(me, problems: &problems)
        let meshAddresses = Set(peers[..<meshCount].map(\.address))
        var exports: [IPAddress: BGPExport] = [:]
        if !export.isEmpty {
            for peer in peers[meshCount...] where !meshAddresses.contains(peer.address) {
                exports[peer.address] = export
            }
        }
        // One session per address: the first definition wins (mesh, then flags, then annotations).
        var seen = Set<IPAddress>()
        peers = peers.filter { seen.insert($0.address).inserted }
        // eBGP sessions: single hop unless --peer-router-multihop-ttl allows more.
        for i in peers.indices where peers[i].asn != localASN {
            peers[i].ttl = settings.multihopTTL >= 2 ? settings.multihopTTL : 1
        }
        if me.podCIDRs.isEmpty { problems.append("node \(name) has no spec.podCIDR yet: nothing to advertise") }
        let policy = importPolicy(node: name, nodes: nodes, settings: settings, problems: &problems)
        let services = settings.advertise.routes(node: name, services: services, slices: slices)
        var plan = RouterPlan(
            localASN: localASN, routerID: routerID, advertised: me.podCIDRs, peers: peers,
            importPolicy: policy, problems: problems + services.problems, serviceRoutes: services.routes,
            announcePodCIDRs: settings.advertisePodCIDR, exports: exports, nodeAddresses: me.internalIPs)
        if case .server(let id) = role { plan.clusterID = id }
        return plan
    }

    /// A node's part in route reflection, from its annotations (`rr.server` first, as kube-router reads them).
    public enum ReflectorRole: Sendable, Equatable {
        case none
        case server(clusterID: UInt32)
        case client(clusterID: UInt32)

        public var isServer: Bool {
            if case .server = self { return true }
            return false
        }
    }

    static func reflectorRole(_ node: Node, problems: inout [String]) -> ReflectorRole {
        let rr = routeReflectorAnnotations
        for (annotation, server) in [(rr.server, true), (rr.client, false)] {
            guard let text = node.meta.annotations[annotation] else { continue }
            guard let id = BGPReflection.clusterID(text) else {
                problems.append(
                    "node \(node.name): annotation \(annotation)=\"\(text)\" is not a cluster ID (a 32-bit number "
                        + "or an IPv4 address); the node takes no part in route reflection")
                return .none
            }
            return server ? .server(clusterID: id) : .client(clusterID: id)
        }
        return .none
    }

    /// `kube-router.io/peers`: a YAML list of `remoteip` and `remoteasn` (required), `localip`, `password`
    /// (base64) and `port`. An error names the node, the annotation, the entry and the field.
    static func annotatedPeers(_ text: String, node: String, defaultPort: UInt16) throws -> [BGPPeerConfig] {
        let origin = "node \(node) annotation \(peersAnnotation)"
        let documents: [JSONValue]
        do { documents = try JSONValue.parseYAMLDocuments(text) } catch {
            throw RouterConfigError("\(origin): not YAML: \(error)")
        }
        guard documents.count <= 1, let list = (documents.first ?? .array([])).arrayValue else {
            throw RouterConfigError("\(origin): expected a YAML list of peers (- remoteip: ..., remoteasn: ...)")
        }
        return try list.enumerated().map { i, entry in
            let at = "\(origin)[\(i)]"
            func field(_ name: String) -> String? {
                switch entry[name] {
                case .string(let s)?: s.trimmingCharacters(in: .whitespaces)
                case .int(let n)?: String(n)
                case nil, .null?: nil
                default: "\(entry[name]!)"
                }
            }
            guard let ipText = field("remoteip") else { throw RouterConfigError("\(at): remoteip is required") }
            guard let address = IPAddress(ipText) else {
                throw RouterConfigError("\(at).remoteip: \"\(ipText)\" is not an IP address")
            }
            guard let asnText = field("remoteasn") else { throw RouterConfigError("\(at): remoteasn is required") }
            guard let asn = UInt32(asnText), asn > 0 else {
                throw RouterConfigError("\(at).remoteasn: \"\(asnText)\" is not an AS number (1-4294967295)")
            }
            var peer = BGPPeerConfig(address: address, asn: asn, port: defaultPort, origin: origin)
            if let text = field("port") {
                guard let port = UInt16(text), port > 0 else {
                    throw RouterConfigError("\(at).port: \"\(text)\" is not a port")
                }
                peer.port = port
            }
            if let text = field("password"), !text.isEmpty {
                // kube-router's own example ends the value with a comma, as in the positional form.
                let encoded = text.hasSuffix(",") ? String(text.dropLast()) : text
                guard let data = Data(base64Encoded: encoded), let password = String(data: data, encoding: .utf8)
                else { throw RouterConfigError("\(at).password: not base64") }
                peer.password = password
            }
            if let text = field("localip"), !text.isEmpty {
                guard let local = IPAddress(text), local.family == address.family else {
                    throw RouterConfigError("\(at).localip: \"\(text)\" is not an IP address of remoteip's family")
                }
                peer.localAddress = local
            }
            return peer
        }
    }

    /// The node's communities and AS-path prepending, for its peers outside the cluster; bad values are named
    /// and left out.
    static func exportPolicy(_ node: Node, problems: inout [String]) -> BGPExport {
        var export = BGPExport()
        if let text = node.meta.annotations[communitiesAnnotation] {
            for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) })
            where !item.isEmpty {
                if let community = BGPExport.community(item) {
                    if !export.communities.contains(community) { export.communities.append(community) }
                } else {
                    problems.append(
                        "node \(node.name): annotation \(communitiesAnnotation): \"\(item)\" is not a community "
                            + "(a 32-bit number, ASN:VALUE or a name such as no-export); ignored")
                }
            }
        }
        let p = prependAnnotations
        let asText = node.meta.annotations[p.as]
        let repeatText = node.meta.annotations[p.repeat]
        if asText != nil || repeatText != nil {
            if let asText, let asn = UInt32(asText), asn > 0, let repeatText, let count = Int(repeatText),
                (1...64).contains(count)
            {
                export.prepend = Array(repeating: asn, count: count)
            } else {
                func quoted(_ text: String?) -> String { text.map { "\"\($0)\"" } ?? "none" }
                problems.append(
                    "node \(node.name): annotations \(p.as) (an AS number) and \(p.repeat) (1-64) go together; "
                        + "got \(quoted(asText)) and \(quoted(repeatText)): no prepending")
            }
        }
        return export
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
