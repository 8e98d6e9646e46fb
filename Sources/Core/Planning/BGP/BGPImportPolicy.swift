import KubeModel

/// Which learned routes may go into the kernel, as kube-router's import policy: never a default route,
/// nothing inside a node's pod CIDR but that node's own announcement of it, nothing inside this node's
/// addresses or the networks connected to it, the service ranges, loopback, link-local, multicast or
/// reserved space, nor inside a configured reject range. Pure: the router planner builds it from nodes
/// and flags; the RIB applies it.
public struct BGPImportPolicy: Sendable, Equatable {
    /// Why a path is not accepted. The raw values are what `krctl bgp routes -o json` shows.
    public enum Reason: String, Sendable, Codable, CaseIterable {
        case defaultRoute = "default-route"
        case ownPodCIDR = "own-pod-cidr"
        case podCIDR = "pod-cidr"
        case nodeAddress = "node-address"
        case localNetwork = "local-network"
        case serviceRange = "service-range"
        case loopback
        case linkLocal = "link-local"
        case multicast
        case reserved
        case customReject = "custom-reject"
        case asLoop = "as-loop"
        /// Reflected back to us: its ORIGINATOR_ID is our router ID (RFC 4456 §8).
        case originatorLoop = "originator-loop"
        /// Its CLUSTER_LIST holds our cluster ID: it went round the reflectors (RFC 4456 §8).
        case clusterLoop = "cluster-loop"
        /// Accepted, but not installed: the kernel's main table has a route of another protocol (a static
        /// route, a routing daemon's) to exactly this destination, and ours would overwrite it.
        case kernelRouteOfAnotherProtocol = "kernel-route-of-another-protocol"

        public var description: String {
            switch self {
            case .defaultRoute: "default route"
            case .ownPodCIDR: "inside this node's pod CIDR"
            case .podCIDR: "inside another node's pod CIDR, not that node's own announcement"
            case .nodeAddress: "this node's address"
            case .localNetwork: "inside a network connected to this node"
            case .serviceRange: "inside a service range"
            case .loopback: "loopback"
            case .linkLocal: "link-local"
            case .multicast: "multicast"
            case .reserved: "reserved address space"
            case .customReject: "inside a configured reject range"
            case .asLoop: "our AS is in its AS_PATH (loop)"
            case .originatorLoop: "its ORIGINATOR_ID is our router ID (reflected back to us)"
            case .clusterLoop: "our cluster ID is in its CLUSTER_LIST (a route reflection loop)"
            case .kernelRouteOfAnotherProtocol: "the kernel has a route of another protocol to it"
            }
        }
    }

    /// A node of the cluster: its pod CIDRs, accepted only from one of its addresses.
    public struct NodePods: Sendable, Equatable {
        public var name: String
        public var podCIDRs: [CIDR]
        public var addresses: [IPAddress]
        public init(name: String, podCIDRs: [CIDR], addresses: [IPAddress]) {
            self.name = name
            self.podCIDRs = podCIDRs
            self.addresses = addresses
        }
    }

    /// Address space no peer may route for us, whatever the flags (RFC 6890).
    public static let wellKnown: [(CIDR, Reason)] = [
        ("127.0.0.0/8", .loopback), ("::1/128", .loopback),
        ("169.254.0.0/16", .linkLocal), ("fe80::/10", .linkLocal),
        ("224.0.0.0/4", .multicast), ("ff00::/8", .multicast),
        ("0.0.0.0/8", .reserved), ("240.0.0.0/4", .reserved),
    ].compactMap { text, reason in CIDR(text).map { ($0, reason) } }

    /// This node's pod CIDRs: nothing inside them is installed from a peer.
    public var localPodCIDRs: [CIDR]
    /// This node's addresses: a route to one of them would take the node's own traffic away.
    public var localAddresses: [IPAddress]
    /// The networks connected to this node (its links' subnets): a route inside one would replace the
    /// kernel's connected route or take part of the link away.
    public var localNetworks: [CIDR]
    /// The other nodes (this one may be among them; it is skipped by name).
    public var nodes: [NodePods]
    public var localNode: String
    /// `--service-cluster-ip-range`, `--service-external-ip-range`.
    public var serviceRanges: [CIDR]
    /// `--bgp-import-reject` and the node annotation `kube-router.io/node.bgp.customimportreject`.
    public var customRejects: [CIDR]

    public init(
        localNode: String = "", localPodCIDRs: [CIDR] = [], localAddresses: [IPAddress] = [],
        localNetworks: [CIDR] = [], nodes: [NodePods] = [], serviceRanges: [CIDR] = [],
        customRejects: [CIDR] = []
    ) {
        self.localNode = localNode
        self.localPodCIDRs = localPodCIDRs
        self.localAddresses = localAddresses
        self.localNetworks = localNetworks
        self.nodes = nodes
        self.serviceRanges = serviceRanges
        self.customRejects = customRejects
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.localNode == b.localNode && a.localPodCIDRs == b.localPodCIDRs && a.localAddresses == b.localAddresses
            && a.localNetworks == b.localNetworks
            && a.nodes == b.nodes && a.serviceRanges == b.serviceRanges && a.customRejects == b.customRejects
    }

    /// Why the route to `prefix` from `peer` (next hop `nextHop`) is rejected, or nil when it is accepted.
    public func rejection(_ prefix: CIDR, peer: IPAddress, nextHop: IPAddress) -> Reason? {
        if prefix.prefixLength == 0 { return .defaultRoute }
        if localPodCIDRs.contains(where: { $0.contains(prefix) }) { return .ownPodCIDR }
        for node in nodes where node.name != localNode {
            for cidr in node.podCIDRs where cidr.contains(prefix) {
                // The exact pod CIDR of a node, from that node: how the mesh and route reflectors carry it.
                let fromOwner = node.addresses.contains(peer) || node.addresses.contains(nextHop)
                if prefix != cidr || !fromOwner { return .podCIDR }
            }
        }
        if localAddresses.contains(where: { prefix.contains($0) && prefix.prefixLength == $0.bitWidth }) {
            return .nodeAddress
        }
        if localNetworks.contains(where: { $0.contains(prefix) }) { return .localNetwork }
        if serviceRanges.contains(where: { $0.contains(prefix) }) { return .serviceRange }
        for (range, reason) in Self.wellKnown where range.contains(prefix) { return reason }
        if customRejects.contains(where: { $0.contains(prefix) }) { return .customReject }
        return nil
    }
}
