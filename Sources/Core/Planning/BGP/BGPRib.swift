import KubeModel

/// The routes learned from peers (Adj-RIB-In) and the best path per prefix (Loc-RIB), pure and
/// synchronous: the speaker feeds it UPDATEs and session losses and reads back what to install.
public struct BGPRib: Sendable {
    /// One path to a prefix, as one peer announced it.
    public struct Path: Sendable, Equatable {
        public var peer: IPAddress
        public var peerASN: UInt32
        public var peerRouterID: UInt32
        public var external: Bool
        public var nextHop: IPAddress
        /// Learned from a route reflector client of ours (RFC 4456): reflected to every other iBGP peer.
        public var fromClient = false
        /// One UPDATE's attributes, shared by all its prefixes (a full table is many prefixes, few UPDATEs).
        private var shared: Attributes
        /// Kept through a peer's graceful restart, until it re-announces or the restart time runs out.
        public var stale = false
        /// Why the RIB refuses it (nil: accepted), judged when it arrives and again when the policy changes.
        public internal(set) var verdict: BGPImportPolicy.Reason?

        final class Attributes: Sendable, Equatable {
            let value: BGPPathAttributes
            init(_ value: BGPPathAttributes) { self.value = value }
            static func == (a: Attributes, b: Attributes) -> Bool { a === b || a.value == b.value }
        }

        public var attributes: BGPPathAttributes {
            get { shared.value }
            set { shared = Attributes(newValue) }
        }

        public init(
            peer: IPAddress, peerASN: UInt32, peerRouterID: UInt32, external: Bool, nextHop: IPAddress,
            attributes: BGPPathAttributes, stale: Bool = false
        ) {
            self.peer = peer
            self.peerASN = peerASN
            self.peerRouterID = peerRouterID
            self.external = external
            self.nextHop = nextHop
            self.shared = Attributes(attributes)
            self.stale = stale
        }

        func sharing(_ attributes: Attributes, nextHop: IPAddress) -> Path {
            var p = self
            p.shared = attributes
            p.nextHop = nextHop
            return p
        }
    }

    public let localASN: UInt32
    /// Our BGP Identifier: an iBGP path whose ORIGINATOR_ID it is came back to us (RFC 4456 §8).
    public var routerID: UInt32 = 0 { didSet { if routerID != oldValue { judgeAgain() } } }
    /// Our cluster ID when we are a route reflector: an iBGP path whose CLUSTER_LIST holds it went round.
    public var clusterID: UInt32? { didSet { if clusterID != oldValue { judgeAgain() } } }
    /// Our own prefixes (the node's pod CIDRs): never installed from a peer.
    public var ownPrefixes: Set<CIDR> { didSet { if ownPrefixes != oldValue { judgeAgain() } } }
    /// What may be installed; a new policy applies to the paths already stored.
    public var policy: BGPImportPolicy { didSet { if policy != oldValue { judgeAgain() } } }
    private(set) public var paths: [CIDR: [Path]] = [:]
    /// Prefixes stored per peer (accepted or not), kept as paths come and go: the max-prefix check.
    private var received: [IPAddress: Int] = [:]
    /// Of those, how many are refused (status reads these counts without going through the RIB).
    private var refused: [IPAddress: Int] = [:]
    /// The largest `paths` has been since it was last rebuilt: its storage is returned when it shrinks a lot.
    private var peak = 0

    public init(localASN: UInt32, ownPrefixes: Set<CIDR> = [], policy: BGPImportPolicy = BGPImportPolicy()) {
        self.localASN = localASN
        self.ownPrefixes = ownPrefixes
        self.policy = policy
    }

    /// Why a path is not accepted, or nil when it is.
    public func rejection(_ prefix: CIDR, _ path: Path) -> BGPImportPolicy.Reason? {
        if ownPrefixes.contains(prefix) { return .ownPodCIDR }
        if path.external && path.attributes.asns.contains(localASN) { return .asLoop }
        if !path.external {
            if routerID != 0, path.attributes.originatorID == routerID { return .originatorLoop }
            if let clusterID, path.attributes.clusterList?.contains(clusterID) == true { return .clusterLoop }
        }
        return policy.rejection(prefix, peer: path.peer, nextHop: path.nextHop)
    }

    /// How many prefixes `peer` has in the RIB, accepted or not.
    public func receivedCount(_ peer: IPAddress) -> Int { received[peer] ?? 0 }

    /// Every stored path judged again (the policy or our prefixes changed).
    private mutating func judgeAgain() {
        var refusedNow: [IPAddress: Int] = [:]
        for prefix in Array(paths.keys) {
            guard var list = paths[prefix] else { continue }
            for i in list.indices {
                list[i].verdict = rejection(prefix, list[i])
                if list[i].verdict != nil { refusedNow[list[i].peer, default: 0] += 1 }
            }
            paths[prefix] = list
        }
        refused = refusedNow
    }

    /// Applies an UPDATE from `peer`; returns the prefixes whose paths changed.
    @discardableResult
    public mutating func apply(_ update: BGPUpdate, from peer: Path) -> Set<CIDR> {
        var changed = Set<CIDR>()
        for prefix in update.allWithdrawn where remove(prefix, peer: peer.peer) { changed.insert(prefix) }
        guard update.treatAsWithdraw == nil else { return changed }
        var stored = update.attributes
        stored.mpReach = nil
        stored.mpUnreach = nil
        let shared = Path.Attributes(stored)
        func add(_ prefix: CIDR, nextHop: IPAddress?) {
            guard let nextHop else { return }
            var path = peer.sharing(shared, nextHop: nextHop)
            path.verdict = rejection(prefix, path)
            // In place: a copy of the prefix's list, changed and stored back, made its array twice.
            if let wasRefused = Self.store(path, in: &paths[prefix, default: []]) {
                if wasRefused { refused[peer.peer, default: 1] -= 1 }
            } else {
                received[peer.peer, default: 0] += 1
            }
            if path.verdict != nil { refused[peer.peer, default: 0] += 1 }
            changed.insert(prefix)
        }
        for prefix in update.nlri { add(prefix, nextHop: update.attributes.nextHop) }
        if let reach = update.attributes.mpReach {
            for prefix in reach.nlri { add(prefix, nextHop: reach.nextHops.first) }
        }
        peak = max(peak, paths.count)
        return changed
    }

    /// Puts a peer's path in a prefix's list, in place of that peer's earlier one: whether that one was refused,
    /// nil when there was none.
    private static func store(_ path: Path, in list: inout [Path]) -> Bool? {
        guard let old = list.firstIndex(where: { $0.peer == path.peer }) else {
            list.append(path)
            return nil
        }
        let wasRefused = list[old].verdict != nil
        list[old] = path
        return wasRefused
    }

    /// Removes every path of a peer (its session ended); with `keepAsStale` marks those of these families
    /// stale instead (graceful restart: forwarding goes on while the peer restarts), the others go.
    @discardableResult
    public mutating func dropPeer(_ peer: IPAddress, keepAsStale families: Set<IPAddress.Family> = []) -> Set<CIDR> {
        var changed = Set<CIDR>()
        for (prefix, list) in paths where list.contains(where: { $0.peer == peer }) {
            if families.contains(prefix.family) {
                paths[prefix] = list.map {
                    var p = $0
                    if p.peer == peer { p.stale = true }
                    return p
                }
            } else {
                let rest = list.filter { $0.peer != peer }
                paths[prefix] = rest.isEmpty ? nil : rest
                changed.insert(prefix)
            }
        }
        recount(peer)
        compact()
        return changed
    }

    /// After a restarted peer's End-of-RIB (or its restart time): its paths not re-announced go; with
    /// `family`, only those of that family.
    @discardableResult
    public mutating func purgeStale(_ peer: IPAddress, family: IPAddress.Family? = nil) -> Set<CIDR> {
        var changed = Set<CIDR>()
        for (prefix, list) in paths where family == nil || prefix.family == family {
            guard list.contains(where: { $0.peer == peer && $0.stale }) else { continue }
            let rest = list.filter { !($0.peer == peer && $0.stale) }
            paths[prefix] = rest.isEmpty ? nil : rest
            changed.insert(prefix)
        }
        if !changed.isEmpty {
            recount(peer)
            compact()
        }
        return changed
    }

    /// Whether a peer still has stale paths (of one family).
    public func hasStale(_ peer: IPAddress, family: IPAddress.Family? = nil) -> Bool {
        paths.contains { prefix, list in
            (family == nil || prefix.family == family) && list.contains { $0.peer == peer && $0.stale }
        }
    }

    private mutating func remove(_ prefix: CIDR, peer: IPAddress) -> Bool {
        guard var list = paths[prefix], let index = list.firstIndex(where: { $0.peer == peer }) else { return false }
        if list[index].verdict != nil { refused[peer, default: 1] -= 1 }
        list.remove(at: index)
        paths[prefix] = list.isEmpty ? nil : list
        received[peer, default: 1] -= 1
        if received[peer] ?? 0 <= 0 { received[peer] = nil }
        if refused[peer] ?? 0 <= 0 { refused[peer] = nil }
        if list.isEmpty { compact() }
        return true
    }

    private mutating func recount(_ peer: IPAddress) {
        var n = 0
        var r = 0
        for list in paths.values {
            for path in list where path.peer == peer {
                n += 1
                if path.verdict != nil { r += 1 }
            }
        }
        received[peer] = n == 0 ? nil : n
        refused[peer] = r == 0 ? nil : r
    }

    /// A dictionary keeps its storage when it shrinks: once it is down to a quarter of its peak (a peer
    /// withdrew or lost a full table), it is copied into storage of its present size.
    private mutating func compact() {
        guard peak >= 1024, paths.count * 4 <= peak else { return }
        if paths.isEmpty {
            paths = [:]
        } else {
            var fresh = [CIDR: [Path]](minimumCapacity: paths.count)
            for (prefix, list) in paths { fresh[prefix] = list }
            paths = fresh
        }
        peak = paths.count
    }

    /// The best acceptable path to a prefix (RFC 4271 §9.1.2): highest LOCAL_PREF, shortest AS_PATH,
    /// lowest ORIGIN, lowest MED (between paths from the same neighbouring AS), eBGP over iBGP, lowest
    /// router ID (the ORIGINATOR_ID when there is one), shortest CLUSTER_LIST (RFC 4456 §9), lowest peer
    /// address.
    public func best(_ prefix: CIDR) -> Path? {
        guard let list = paths[prefix] else { return nil }
        // No array of candidates made: most prefixes have one path.
        var best: Path?
        for path in list where path.verdict == nil {
            if let current = best, !Self.better(path, current) { continue }
            best = path
        }
        return best
    }

    static func better(_ a: Path, _ b: Path) -> Bool {
        let lpA = a.attributes.localPref ?? 100
        let lpB = b.attributes.localPref ?? 100
        if lpA != lpB { return lpA > lpB }
        if a.attributes.pathLength != b.attributes.pathLength {
            return a.attributes.pathLength < b.attributes.pathLength
        }
        let oA = a.attributes.origin?.rawValue ?? 2
        let oB = b.attributes.origin?.rawValue ?? 2
        if oA != oB { return oA < oB }
        if a.attributes.asns.first == b.attributes.asns.first, (a.attributes.med ?? 0) != (b.attributes.med ?? 0) {
            return (a.attributes.med ?? 0) < (b.attributes.med ?? 0)
        }
        if a.external != b.external { return a.external }
        let idA = a.attributes.originatorID ?? a.peerRouterID
        let idB = b.attributes.originatorID ?? b.peerRouterID
        if idA != idB { return idA < idB }
        let clustersA = a.attributes.clusterList?.count ?? 0
        let clustersB = b.attributes.clusterList?.count ?? 0
        if clustersA != clustersB { return clustersA < clustersB }
        return a.peer < b.peer
    }

    /// The routes to install: the best path of every prefix, as kernel routes of `proto`.
    public func kernelRoutes(proto: UInt8) -> [KernelRoute] {
        Self.ordered(unorderedKernelRoutes(proto: proto))
    }

    /// `kernelRoutes` in no particular order: what a caller holding a lock over the RIB takes, ordering after.
    public func unorderedKernelRoutes(proto: UInt8) -> [KernelRoute] {
        paths.keys.compactMap { prefix in
            best(prefix).map { KernelRoute(destination: prefix, gateways: [$0.nextHop], proto: proto) }
        }
    }

    /// Routes in the order of their destinations (`CIDR.precedes`: numbers, no text built; sorting by text took
    /// seconds at 100,000 routes).
    public static func ordered(_ routes: [KernelRoute]) -> [KernelRoute] {
        routes.sorted { CIDR.precedes($0.destination, $1.destination) }
    }

    /// Paths received from a peer, and how many of them were accepted and rejected (kept as paths come
    /// and go: no walk through the RIB).
    public func counts(for peer: IPAddress) -> (received: Int, accepted: Int, rejected: Int) {
        let n = received[peer] ?? 0
        let r = refused[peer] ?? 0
        return (n, n - r, r)
    }
}
