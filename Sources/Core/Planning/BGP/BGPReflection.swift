import Foundation
import KubeModel

/// Route reflection (RFC 4456), pure: which best path goes to which iBGP peer, and with what. A route
/// reflector passes on the routes it learned over iBGP that an iBGP full mesh would have carried: those of a
/// client to every other iBGP peer, those of a non-client to its clients only; never back to the peer the path
/// came from, never to the router that originated it. The next hop and the other attributes stay; the
/// ORIGINATOR_ID is set once, and our cluster ID goes in front of the CLUSTER_LIST. Routes learned over eBGP
/// are not passed on: the speaker is no transit router.
public enum BGPReflection {
    /// An iBGP peer as reflection sees it.
    public struct Target: Sendable, Equatable {
        public var address: IPAddress
        public var client: Bool
        /// Its BGP Identifier (from its OPEN), when known.
        public var routerID: UInt32?

        public init(address: IPAddress, client: Bool, routerID: UInt32? = nil) {
            self.address = address
            self.client = client
            self.routerID = routerID
        }
    }

    /// Whether the best path `path` is reflected to `target`.
    public static func reflects(_ path: BGPRib.Path, to target: Target) -> Bool {
        guard !path.external, path.peer != target.address else { return false }
        guard path.fromClient || target.client else { return false }
        if let id = target.routerID, (path.attributes.originatorID ?? path.peerRouterID) == id { return false }
        return true
    }

    /// The attributes `path` is reflected with (its next hop apart: see `BGPUpdate.announcing`).
    public static func attributes(of path: BGPRib.Path, clusterID: UInt32) -> BGPPathAttributes {
        var a = path.attributes
        a.originatorID = a.originatorID ?? path.peerRouterID
        a.clusterList = [clusterID] + (a.clusterList ?? [])
        a.localPref = a.localPref ?? 100
        a.nextHop = nil
        a.mpReach = nil
        a.mpUnreach = nil
        return a
    }

    /// A cluster ID as kube-router takes it from `kube-router.io/rr.server` and `rr.client`: a 32-bit number
    /// (decimal, or `0x`, `0o`, `0b` or a leading `0` as Go's `ParseUint(s, 0, 32)` reads them) or an IPv4
    /// address; nil when it is neither.
    public static func clusterID(_ text: String) -> UInt32? {
        let s = text.trimmingCharacters(in: .whitespaces)
        if let address = IPAddress(s) {
            return address.family == .ipv4 ? UInt32(truncatingIfNeeded: address.low) : nil
        }
        let digits = s.replacingOccurrences(of: "_", with: "")
        let lower = digits.lowercased()
        if lower.hasPrefix("0x") { return UInt32(lower.dropFirst(2), radix: 16) }
        if lower.hasPrefix("0o") { return UInt32(lower.dropFirst(2), radix: 8) }
        if lower.hasPrefix("0b") { return UInt32(lower.dropFirst(2), radix: 2) }
        if lower.count > 1, lower.hasPrefix("0") { return UInt32(lower.dropFirst(), radix: 8) }
        return UInt32(lower, radix: 10)
    }
}

extension BGPUpdate {
    /// Prefixes per UPDATE: a message holds at most 4,096 bytes (RFC 4271 §4.1); 400 IPv4 prefixes (at most
    /// 5 bytes each) or 100 IPv6 ones (at most 17) leave room for any attributes we send.
    static let prefixesPerMessage: [IPAddress.Family: Int] = [.ipv4: 400, .ipv6: 100]

    /// UPDATEs announcing `prefixes` (one family) with `attributes` and `nextHop`: IPv4 in the NLRI with
    /// NEXT_HOP, IPv6 in MP_REACH_NLRI; as many messages as the size limit needs.
    public static func announcing(
        _ prefixes: [CIDR], attributes: BGPPathAttributes, nextHop: IPAddress
    ) -> [BGPUpdate] {
        guard let family = prefixes.first?.family else { return [] }
        return chunks(prefixes, family: family).map { chunk in
            var a = attributes
            if family == .ipv4 {
                a.nextHop = nextHop
                return BGPUpdate(attributes: a, nlri: chunk)
            }
            a.mpReach = .init(afi: AFI.ipv6.rawValue, safi: SAFI.unicast.rawValue, nextHops: [nextHop], nlri: chunk)
            return BGPUpdate(attributes: a)
        }
    }

    /// UPDATEs withdrawing `prefixes` (either family), within the size limit.
    public static func withdrawing(_ prefixes: [CIDR]) -> [BGPUpdate] {
        let v4 = chunks(prefixes.filter { $0.family == .ipv4 }, family: .ipv4).map { BGPUpdate(withdrawn: $0) }
        let v6 = chunks(prefixes.filter { $0.family == .ipv6 }, family: .ipv6).map { chunk in
            var a = BGPPathAttributes()
            a.mpUnreach = .init(afi: AFI.ipv6.rawValue, safi: SAFI.unicast.rawValue, withdrawn: chunk)
            return BGPUpdate(attributes: a)
        }
        return v4 + v6
    }

    private static func chunks(_ prefixes: [CIDR], family: IPAddress.Family) -> [[CIDR]] {
        let size = prefixesPerMessage[family] ?? 100
        return stride(from: 0, to: prefixes.count, by: size).map {
            Array(prefixes[$0..<min($0 + size, prefixes.count)])
        }
    }
}
