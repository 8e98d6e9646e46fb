import Foundation
import Kernel
import KubeModel
import Planning

/// The node's BGP speaker: one session per configured peer, a listener for their connections, the
/// RIB, our prefixes advertised to every established peer, and the best learned routes kept in the
/// kernel (our own route protocol; nobody else's routes are touched).
public final class BGPSpeaker: @unchecked Sendable, BGPSessionDelegate {
    public struct Config: Sendable {
        public var asn: UInt32
        public var routerID: IPAddress
        public var listenAddress: IPAddress?
        public var port: UInt16
        public var holdTime: UInt16
        public var connectRetry: Double
        /// Graceful restart (RFC 4724) with this restart time, when on.
        public var gracefulRestartTime: UInt16?
        /// Install learned routes in the kernel (off in tests that only look at the RIB).
        public var installRoutes: Bool

        public init(asn: UInt32, routerID: IPAddress, listenAddress: IPAddress? = nil, port: UInt16 = 179, holdTime: UInt16 = 90,
                    connectRetry: Double = 5, gracefulRestartTime: UInt16? = nil, installRoutes: Bool = true) {
            self.asn = asn; self.routerID = routerID; self.listenAddress = listenAddress; self.port = port
            self.holdTime = holdTime; self.connectRetry = connectRetry; self.gracefulRestartTime = gracefulRestartTime
            self.installRoutes = installRoutes
        }
    }

    public let config: Config
    private let lock = NSLock()
    private var sessions: [IPAddress: BGPSession] = [:]
    private var rib: BGPRib
    private var advertised: [CIDR] = []
    private var listener: BGPListener?
    private var stopped = false
    private let routes: RouteTable?
    private let syncCondition = NSCondition()
    private var routesDirty = false
    /// Prefixes whose best path may have changed since the last sync (nil: check everything).
    private var pendingPrefixes: Set<CIDR>? = nil
    /// What this process last put in the kernel: destination → next hop (one per route; no arrays,
    /// as a full table is many routes).
    private var installed: [CIDR: IPAddress] = [:]
    private var staleTimers: [IPAddress: Date] = [:]
    private let log: @Sendable (String) -> Void
    /// We restarted: our routes were still in the kernel when we started (graceful restart's R bit).
    private let restarted: Bool

    public init(config: Config, log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        self.config = config
        self.log = log
        rib = BGPRib(localASN: config.asn)
        routes = config.installRoutes ? try RouteTable() : nil
        let leftover: [KernelRoute] = (try? routes?.routes(family: .ipv4, proto: RouteTable.kubeRouterProtocol)) ?? []
        restarted = config.gracefulRestartTime != nil && !leftover.isEmpty
    }

    /// Starts listening and the route sync. Peers are added with `setPeers`.
    public func start() throws {
        let listener = try BGPListener(address: config.listenAddress, port: config.port)
        lock.withLock { self.listener = listener }
        let accepting = Thread { [self] in acceptLoop(listener) }
        accepting.name = "bgp listener"
        accepting.start()
        let syncing = Thread { [self] in syncLoop() }
        syncing.name = "bgp routes"
        syncing.start()
    }

    /// Ends every session with a Cease. With graceful restart the learned routes stay in the kernel
    /// (the peers keep ours, we keep theirs, until the restart); otherwise they are removed.
    public func stop() {
        let all: [BGPSession] = lock.withLock { stopped = true; return Array(sessions.values) }
        for session in all { session.stop() }
        syncCondition.withLock { syncCondition.broadcast() }
        if config.gracefulRestartTime == nil, let routes {
            for family in [IPAddress.Family.ipv4, .ipv6] {
                for route in (try? routes.routes(family: family, proto: RouteTable.kubeRouterProtocol)) ?? [] { try? routes.delete(route) }
            }
        }
    }

    /// The configured peers: new ones start, removed ones end with a Cease, changed ones restart.
    public func setPeers(_ peers: [BGPPeerConfig]) {
        let wanted = Dictionary(peers.map { ($0.address, $0) }, uniquingKeysWith: { a, _ in a })
        var toStop: [BGPSession] = []
        var toStart: [BGPSession] = []
        lock.withLock {
            for (address, session) in sessions where wanted[address] != session.peer {
                toStop.append(session)
                sessions[address] = nil
                _ = rib.dropPeer(address)
            }
            for (address, peer) in wanted where sessions[address] == nil {
                let local = BGPSession.Local(
                    asn: config.asn, routerID: UInt32(truncatingIfNeeded: config.routerID.low), holdTime: config.holdTime,
                    connectRetry: config.connectRetry,
                    gracefulRestart: config.gracefulRestartTime.map {
                        .init(restarting: restarted, restartTime: $0, families: [(1, 1, restarted), (2, 1, restarted)])
                    })
                let session = BGPSession(peer: peer, local: local, delegate: self)
                sessions[address] = session
                toStart.append(session)
                if let password = peer.password { try? listener?.setPassword(password, for: address) }
            }
        }
        for session in toStop { session.stop() }
        for session in toStart { session.start() }
        markRoutesDirty()
    }

    /// Our prefixes (the node's pod CIDRs): advertised to every peer, never installed from one.
    public func setAdvertised(_ prefixes: [CIDR]) {
        let (changed, old, established): (Bool, [CIDR], [BGPSession]) = lock.withLock {
            let sorted = prefixes.sorted { $0.description < $1.description }
            guard sorted != advertised else { return (false, [], []) }
            let old = advertised
            advertised = sorted
            rib.ownPrefixes = Set(sorted)
            return (true, old, sessions.values.filter(\.isEstablished))
        }
        guard changed else { return }
        let gone = old.filter { !prefixes.contains($0) }
        for session in established {
            if !gone.isEmpty { for message in withdrawals(gone, for: session) { session.send(message) } }
            for message in announcements(prefixes, for: session) { session.send(message) }
        }
        markRoutesDirty()
    }

    // MARK: Messages we send

    private func announcements(_ prefixes: [CIDR], for session: BGPSession) -> [BGPMessage] {
        guard let local = session.snapshot.localAddress else { return [] }
        var attributes = BGPPathAttributes()
        attributes.origin = .igp
        let external = session.peer.asn != config.asn
        attributes.asPath = external ? [.init(.sequence, [config.asn])] : []
        if !external { attributes.localPref = 100 }
        var messages: [BGPMessage] = []
        let families = Self.families(session.snapshot.peerOpen)
        let v4 = families.contains(AFI.ipv4.rawValue) ? prefixes.filter { $0.family == .ipv4 } : []
        let v6 = families.contains(AFI.ipv6.rawValue) ? prefixes.filter { $0.family == .ipv6 } : []
        if !v4.isEmpty, local.family == .ipv4 {
            var a = attributes
            a.nextHop = local
            messages.append(.update(BGPUpdate(attributes: a, nlri: v4)))
        }
        if !v6.isEmpty, local.family == .ipv6 {
            var a = attributes
            a.mpReach = .init(afi: AFI.ipv6.rawValue, safi: SAFI.unicast.rawValue, nextHops: [local], nlri: v6)
            messages.append(.update(BGPUpdate(attributes: a)))
        }
        return messages
    }

    private func withdrawals(_ prefixes: [CIDR], for session: BGPSession) -> [BGPMessage] {
        var messages: [BGPMessage] = []
        let v4 = prefixes.filter { $0.family == .ipv4 }, v6 = prefixes.filter { $0.family == .ipv6 }
        if !v4.isEmpty { messages.append(.update(BGPUpdate(withdrawn: v4))) }
        if !v6.isEmpty {
            var a = BGPPathAttributes()
            a.mpUnreach = .init(afi: AFI.ipv6.rawValue, safi: SAFI.unicast.rawValue, withdrawn: v6)
            messages.append(.update(BGPUpdate(attributes: a)))
        }
        return messages
    }

    // MARK: Session events

    /// The address families both sides announced (IPv4 unicast alone when the peer announced none).
    static func families(_ open: BGPOpen?) -> Set<UInt16> {
        let theirs = open?.multiprotocol.filter { $0.safi == SAFI.unicast.rawValue }.map(\.afi) ?? []
        return theirs.isEmpty ? [AFI.ipv4.rawValue] : Set(theirs).intersection([AFI.ipv4.rawValue, AFI.ipv6.rawValue])
    }

    func sessionEstablished(_ session: BGPSession) {
        let prefixes = lock.withLock { advertised }
        log("bgp: peer \(session.peer.address) AS \(session.peer.asn) established")
        for message in announcements(prefixes, for: session) { session.send(message) }
        // End-of-RIB for each negotiated family (RFC 4724): the peer knows it has everything. Nothing is
        // sent for a family the peer did not announce: some peers end the session for it.
        for afi in Self.families(session.snapshot.peerOpen).sorted() { session.send(.update(.endOfRIB(afi: afi))) }
    }

    func session(_ session: BGPSession, received update: BGPUpdate) {
        if let why = update.treatAsWithdraw { log("bgp: peer \(session.peer.address): UPDATE treated as withdraw: \(why)") }
        for item in update.discarded { log("bgp: peer \(session.peer.address): discarded \(item)") }
        let open = session.snapshot.peerOpen
        let path = BGPRib.Path(peer: session.peer.address, peerASN: session.peer.asn, peerRouterID: open?.identifier ?? 0,
                               external: session.peer.asn != config.asn, nextHop: session.peer.address, attributes: BGPPathAttributes())
        let changed: Set<CIDR> = lock.withLock {
            var changed = rib.apply(update, from: path)
            if update.isEndOfRIB { changed.formUnion(rib.purgeStale(session.peer.address)); staleTimers[session.peer.address] = nil }
            return changed
        }
        markRoutesDirty(changed)
    }

    func session(_ session: BGPSession, refreshRequested refresh: BGPRouteRefresh) {
        let prefixes = lock.withLock { advertised }
        log("bgp: peer \(session.peer.address) asked for a route refresh")
        for message in announcements(prefixes, for: session) { session.send(message) }
        if Self.families(session.snapshot.peerOpen).contains(refresh.afi) { session.send(.update(.endOfRIB(afi: refresh.afi))) }
    }

    func sessionEnded(_ session: BGPSession, reason: String, graceful: Bool) {
        let restartTime = session.snapshot.peerOpen?.gracefulRestart?.restartTime ?? 0
        log("bgp: peer \(session.peer.address) down: \(reason)\(graceful ? "; keeping its routes for its restart (\(restartTime) s)" : "")")
        let changed: Set<CIDR> = lock.withLock {
            guard sessions[session.peer.address] === session else { return [] }
            if graceful {
                staleTimers[session.peer.address] = Date(timeIntervalSinceNow: Double(restartTime))
                return rib.dropPeer(session.peer.address, keepAsStale: true)
            }
            return rib.dropPeer(session.peer.address)
        }
        markRoutesDirty(changed)
    }

    // MARK: Threads

    private func acceptLoop(_ listener: BGPListener) {
        while !lock.withLock({ stopped }) {
            guard let connection = listener.accept(timeout: 0.5) else { continue }
            let session = lock.withLock { sessions[connection.remote] }
            if let session { session.accept(connection) } else {
                // Not a configured peer: close (RFC 4271 §8: a connection from an unknown peer is refused).
                try? connection.send(.notification(BGPNotification(code: 6, subcode: 5)), options: .init())
                connection.shutdown()
            }
        }
    }

    /// `prefixes`: those that changed; nil asks for a full comparison with the kernel.
    private func markRoutesDirty(_ prefixes: Set<CIDR>? = nil) {
        syncCondition.withLock {
            if let prefixes, pendingPrefixes != nil || !routesDirty {
                pendingPrefixes = (routesDirty ? pendingPrefixes ?? [] : []).union(prefixes)
            } else {
                pendingPrefixes = nil
            }
            routesDirty = true
            syncCondition.signal()
        }
    }

    /// Keeps the kernel's routes of our protocol equal to the best paths: changed prefixes one by one
    /// as UPDATEs arrive; every 10 s a full comparison with the kernel puts back what a link bounce
    /// removed, and graceful-restart waits that ran out end.
    private func syncLoop() {
        var nextFull = Date()
        while true {
            let (proceed, pending): (Bool, Set<CIDR>?) = syncCondition.withLock {
                while !routesDirty && !lock.withLock({ stopped }) && Date() < nextFull {
                    _ = syncCondition.wait(until: nextFull)
                }
                let pending = Date() >= nextFull ? nil : pendingPrefixes
                routesDirty = false
                pendingPrefixes = nil
                return (!lock.withLock { stopped }, pending)
            }
            guard proceed else { return }
            guard let routes else { continue }
            do {
                if let pending {
                    let changes: [(CIDR, IPAddress?)] = lock.withLock { pending.map { ($0, rib.best($0)?.nextHop) } }
                    for (prefix, nextHop) in changes {
                        if let nextHop {
                            guard installed[prefix] != nextHop else { continue }
                            try routes.replace(KernelRoute(destination: prefix, gateways: [nextHop], proto: RouteTable.kubeRouterProtocol))
                            installed[prefix] = nextHop
                        } else if let old = installed.removeValue(forKey: prefix) {
                            try routes.delete(KernelRoute(destination: prefix, gateways: [old], proto: RouteTable.kubeRouterProtocol))
                        }
                    }
                } else {
                    let desired: [KernelRoute] = lock.withLock {
                        for (peer, deadline) in staleTimers where deadline <= Date() {
                            rib.purgeStale(peer)
                            staleTimers[peer] = nil
                        }
                        return rib.kernelRoutes(proto: RouteTable.kubeRouterProtocol)
                    }
                    var now: [CIDR: IPAddress] = [:]
                    for family in [IPAddress.Family.ipv4, .ipv6] {
                        let want = desired.filter { $0.destination.family == family }
                        let have = try routes.routes(family: family, proto: RouteTable.kubeRouterProtocol)
                        let haveSet = Set(have)
                        for route in want where !haveSet.contains(route) { try routes.replace(route) }
                        let wanted = Set(want.map(\.destination))
                        for route in have where !wanted.contains(route.destination) { try routes.delete(route) }
                        for route in want { now[route.destination] = route.gateways.first }
                    }
                    installed = now
                    nextFull = Date(timeIntervalSinceNow: 10)
                }
            } catch {
                log("bgp: route sync failed (retrying with a full sync): \(error)")
                markRoutesDirty()
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }

    // MARK: Status

    /// One peer as `krctl bgp peers` shows it.
    public struct PeerStatus: Sendable, Codable, Equatable {
        public var address: String
        public var asn: UInt32
        public var state: String
        public var origin: String
        public var establishedSince: String?
        public var uptimeSeconds: Int?
        public var prefixesReceived: Int
        public var prefixesAccepted: Int
        public var prefixesAdvertised: Int
        public var holdTime: Int?
        public var capabilities: [String]
        public var lastError: String?
    }

    public func peerStatus() -> [PeerStatus] {
        let all: [BGPSession] = lock.withLock { Array(sessions.values) }
        let rib: BGPRib = lock.withLock { self.rib }
        let advertised: [CIDR] = lock.withLock { self.advertised }
        let formatter = ISO8601DateFormatter()
        return all.map { (session: BGPSession) -> PeerStatus in
            let s = session.snapshot
            let counts = rib.counts(for: session.peer.address)
            let established = s.state == .established
            let advertisedCount = advertised.filter { $0.family == (s.localAddress?.family ?? .ipv4) }.count
            return PeerStatus(address: session.peer.address.description, asn: session.peer.asn, state: s.state.rawValue,
                              origin: session.peer.origin,
                              establishedSince: s.establishedAt.map { formatter.string(from: $0) },
                              uptimeSeconds: s.establishedAt.map { Int(Date().timeIntervalSince($0)) },
                              prefixesReceived: counts.received, prefixesAccepted: counts.accepted,
                              prefixesAdvertised: established ? advertisedCount : 0,
                              holdTime: established ? Int(s.holdTime) : nil,
                              capabilities: established ? (s.peerOpen?.capabilities.map { $0.name } ?? []) : [],
                              lastError: s.lastError)
        }.sorted { $0.address < $1.address }
    }

    /// The RIB's best paths beside the kernel's routes of our protocol.
    public struct RouteStatus: Sendable, Codable, Equatable {
        public var prefix: String
        public var nextHop: String?
        public var peer: String?
        public var asPath: [UInt32]
        public var paths: Int
        public var inKernel: Bool
        public var kernelNextHops: [String]
        /// `ok`, `missing in kernel`, `stale in kernel`, `different next hop`.
        public var status: String
    }

    public func routeStatus() -> [RouteStatus] {
        let rib: BGPRib = lock.withLock { self.rib }
        var kernel: [CIDR: KernelRoute] = [:]
        for family in [IPAddress.Family.ipv4, .ipv6] {
            for route in (try? routes?.routes(family: family, proto: RouteTable.kubeRouterProtocol)) ?? [] { kernel[route.destination] = route }
        }
        var result: [RouteStatus] = []
        for (prefix, paths) in rib.paths {
            let best = rib.best(prefix)
            let k = kernel.removeValue(forKey: prefix)
            var status = "ok"
            if best != nil && k == nil && config.installRoutes { status = "missing in kernel" }
            if let best, let k, k.gateways != [best.nextHop] { status = "different next hop" }
            if best == nil { status = rib.ownPrefixes.contains(prefix) ? "own prefix (not installed)" : "rejected" }
            result.append(RouteStatus(prefix: prefix.description, nextHop: best?.nextHop.description, peer: best?.peer.description,
                                      asPath: best?.attributes.asns ?? [], paths: paths.count, inKernel: k != nil,
                                      kernelNextHops: k?.gateways.map { $0.description } ?? [], status: status))
        }
        for (prefix, k) in kernel {
            result.append(RouteStatus(prefix: prefix.description, nextHop: nil, peer: nil, asPath: [], paths: 0, inKernel: true,
                                      kernelNextHops: k.gateways.map { $0.description }, status: "stale in kernel"))
        }
        return result.sorted { $0.prefix < $1.prefix }
    }
}
