import KubeModel

/// What is added to the routes announced to one peer: the node's BGP communities and AS-path prepending
/// (`kube-router.io/node.bgp.communities`, `kube-router.io/path-prepend.as` and `.repeat-n`), which kube-router
/// applies towards peers outside the cluster. A change is announced again on the open session (no reset).
public struct BGPExport: Sendable, Hashable {
    /// RFC 1997 communities, each `asn << 16 | value`.
    public var communities: [UInt32]
    /// AS numbers put before the path (after our own AS on an eBGP session).
    public var prepend: [UInt32]

    public init(communities: [UInt32] = [], prepend: [UInt32] = []) {
        self.communities = communities
        self.prepend = prepend
    }

    public var isEmpty: Bool { communities.isEmpty && prepend.isEmpty }

    /// The well-known communities by the names GoBGP (and so kube-router) accepts.
    public static let wellKnown: [String: UInt32] = [
        "internet": 0x0000_0000, "planned-shut": 0xFFFF_0000, "graceful-shutdown": 0xFFFF_0000,
        "accept-own": 0xFFFF_0001, "route-filter-translated-v4": 0xFFFF_0002, "route-filter-v4": 0xFFFF_0003,
        "route-filter-translated-v6": 0xFFFF_0004, "route-filter-v6": 0xFFFF_0005, "llgr-stale": 0xFFFF_0006,
        "no-llgr": 0xFFFF_0007, "blackhole": 0xFFFF_029A, "no-export": 0xFFFF_FF01, "no-advertise": 0xFFFF_FF02,
        "no-export-subconfed": 0xFFFF_FF03, "no-peer": 0xFFFF_FF04,
    ]

    /// One community: a well-known name, `ASN:VALUE` (16 bits each) or a 32-bit number; nil when it is none.
    public static func community(_ text: String) -> UInt32? {
        let item = text.trimmingCharacters(in: .whitespaces)
        if let known = wellKnown[item.lowercased()] { return known }
        let halves = item.split(separator: ":", omittingEmptySubsequences: false)
        if halves.count == 2, let high = UInt16(halves[0]), let low = UInt16(halves[1]) {
            return UInt32(high) << 16 | UInt32(low)
        }
        return halves.count == 1 ? UInt32(item) : nil
    }
}
