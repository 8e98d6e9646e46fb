import Foundation
import Kernel
import KubeModel
import Planning

/// The node's BGP speaker: one session per configured peer, a listener for their connections, the
/// RIB, our prefixes advertised to every established peer, and the best learned routes kept in the
/// kernel (our own route protocol; nobody else's routes are touched: a destination the kernel holds
/// with another protocol is not installed, see `RouteDiff`).
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
        /// Install learned routes in the kernel (off in tests that only look at the RIB): through the
        /// backend given to `init`, by default the main table (`RouteTable`).
        public var installRoutes: Bool
        /// The most prefixes one peer may have in the RIB (accepted or not); past it the session ends with
        /// a Cease, Maximum Number of Prefixes Reached (RFC 4486), and the peer's routes go.
        public var maxPrefixes: Int?
        /// Routes of ours a previous run left in the kernel stay until every peer has sent End-of-RIB, or
        /// this many seconds have passed (kube-router's `--bgp-graceful-restart-deferral-time`).
        public var startupDeferral: Double
        /// `--override-nexthop`: our routes' next hop is the session's own local address (next-hop-self)
        /// towards every peer; off (kube-router's default), it is the node's address of that family
        /// (`setNodeAddresses`), or the local address when the node has none of that family.
        public var overrideNextHop = false
        /// Route reflector (RFC 4456) with this cluster ID (`kube-router.io/rr.server`): the best paths learned
        /// over iBGP are passed on (`BGPReflection`), those of clients (`BGPPeerConfig.routeReflectorClient`)
        /// to every iBGP peer, the others to clients.
        public var clusterID: UInt32?

        public init(
            asn: UInt32, routerID: IPAddress, listenAddress: IPAddress? = nil, port: UInt16 = 179,
            holdTime: UInt16 = 90,
            connectRetry: Double = 5, gracefulRestartTime: UInt16? = nil, installRoutes: Bool = true,
            maxPrefixes: Int? = 10000, startupDeferral: Double = 360
        ) {
            self.startupDeferral = startupDeferral
            self.asn = asn
            self.routerID = routerID
            self.listenAddress = listenAddress
            self.port = port
            self.holdTime = holdTime
            self.connectRetry = connectRetry
            self.gracefulRestartTime = gracefulRestartTime
            self.installRoutes = installRoutes
            self.maxPrefixes = maxPrefixes
        }
    }

    public let config: Config
    private let lock = NSLock()
    private var sessions: [IPAddress: BGPSession] = [:]
    private var rib: BGPRib
    private var advertised: [CIDR] = []
    /// What is added to the routes towards each peer (communities, AS-path prepending), by address.
    private var exports: [IPAddress: BGPExport] = [:]
    /// The node's own addresses: our routes' next hop unless `overrideNextHop`.
    private var nodeAddresses: [IPAddress] = []
    private var listener: BGPListener?
    private var stopped = false
    private let routes: (any RouteBackend)?
    private let syncCondition = NSCondition()
    private var routesDirty = false
    /// Prefixes whose best path may have changed since the last sync (nil: check everything).
    private var pendingPrefixes: Set<CIDR>? = nil
    /// What this process last put in the kernel: destination → next hop (one per route; no arrays,
    /// as a full table is many routes).
    private var installed: [CIDR: IPAddress] = [:]
    /// The destinations the kernel held with another protocol at the last full sync (the sync's own).
    private var otherProtocols: [CIDR: UInt8] = [:]
    /// Best paths not installed because the kernel has another protocol's route to them: destination →
    /// that protocol (under `lock`; `krctl bgp routes` shows them).
    private var blocked: [CIDR: UInt8] = [:]
    /// When each restarting peer's restart time ends: its stale paths go then (the sync loop wakes for it).
    private var staleTimers: [IPAddress: Date] = [:]
    private let log: @Sendable (String) -> Void
    /// ROUTE-REFRESH requests received, per peer (for `krctl bgp peers`).
    private var refreshes: [IPAddress: Int] = [:]
    /// Called (on the session's thread) after a session comes up or goes down.
    private var sessionChanged: (@Sendable () -> Void)?
    /// We restarted: our routes were still in the kernel when we started (graceful restart's R bit).
    private let restarted: Bool
    /// The destinations of the routes a previous run left (under `lock`): not removed until the deferral
    /// ends (every peer sent End-of-RIB, or `config.startupDeferral` passed); one this run installs again is
    /// its own from then on.
    private var leftovers: Set<CIDR> = []
    private var deferralEnds: Date?
    /// `setPeers` was called: the deferral may end when all of them have sent End-of-RIB.
    private var peersSet = false
    private var endOfRIBFrom: Set<IPAddress> = []
    /// Route reflection's Adj-RIB-Out (under `lock`): per iBGP peer, what was reflected to it, so that only
    /// changes are sent and what no longer goes is withdrawn.
    private var reflected: [IPAddress: [CIDR: Reflected]] = [:]
    private struct Reflected: Equatable {
        var attributes: BGPPathAttributes
        var nextHop: IPAddress
    }
    /// Held from reading the RIB for reflection to sending what it gives: the last UPDATE a peer gets for a
    /// prefix is from the latest RIB, whichever session's thread sends it.
    private let reflecting = NSLock()

    /// `routes`: where learned routes go when `config.installRoutes` (nil: the kernel's main table).
    public init(
        config: Config, importPolicy: BGPImportPolicy = BGPImportPolicy(), routes: (any RouteBackend)? = nil,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) throws {
        self.config = config
        self.log = log
        rib = BGPRib(localASN: config.asn, policy: importPolicy)
        rib.routerID = UInt32(truncatingIfNeeded: config.routerID.low)
        rib.clusterID = config.clusterID
        self.routes = config.installRoutes ? try routes ?? RouteTable() : nil
        var leftover: [KernelRoute] = []
        for family in [IPAddress.Family.ipv4, .ipv6] {
            leftover += (try? self.routes?.routes(family: family, proto: Self.proto)) ?? []
        }
        restarted = config.gracefulRestartTime != nil && !leftover.isEmpty
        if !leftover.isEmpty {
            leftovers = Set(leftover.map(\.destination))
            deferralEnds = Date(timeIntervalSinceNow: config.startupDeferral)
        }
    }

    /// Whether routes a previous run left are still kept (until every peer sent End-of-RIB or the
    /// deferral time passed).
    public var deferringLeftovers: Bool { lock.withLock { deferralEnds != nil } }

    /// Ends the deferral when its time has passed or every configured peer has sent End-of-RIB; then the
    /// next sync is full (the leftovers no peer announced go). Under `lock`.
    private func deferralEndsNow() -> String? {
        guard let ends = deferralEnds else { return nil }
        let everyPeer = peersSet && sessions.keys.allSatisfy { endOfRIBFrom.contains($0) }
        guard everyPeer || Date() >= ends else { return nil }
        deferralEnds = nil
        let kept = leftovers.count
        leftovers = []
        return everyPeer
            ? "every peer sent End-of-RIB: the \(kept) route(s) a previous run left are now synced"
            : "the deferral time (\(Int(config.startupDeferral)) s) passed: the \(kept) route(s) a previous run left "
                + "are now synced"
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

    /// Ends every session. `restarting` (the agent stops, to be started again): a peer that negotiated
    /// graceful restart with us sees the connection close with no NOTIFICATION and keeps our routes as
    /// stale; the others get a Cease / Administrative Shutdown carrying `reason` (RFC 8203/9003); every route
    /// stays in the kernel, so forwarding goes on until the next run takes over. Otherwise (the speaker is
    /// replaced): every session ends with a Cease, and without graceful restart the learned routes go.
    public func stop(restarting: Bool = false, reason: String? = nil) {
        let all: [BGPSession] = lock.withLock {
            stopped = true
            return Array(sessions.values)
        }
        for session in all {
            let keepsOurRoutes =
                config.gracefulRestartTime != nil && session.isEstablished
                && session.snapshot.peerOpen?.gracefulRestart != nil
            session.stop(notify: !(restarting && keepsOurRoutes), communication: reason)
        }
        syncCondition.withLock { syncCondition.broadcast() }
        if !restarting, config.gracefulRestartTime == nil, let routes {
            for family in [IPAddress.Family.ipv4, .ipv6] {
                for route in (try? routes.routes(family: family, proto: Self.proto)) ?? [] {
                    _ = try? routes.deleteIfPresent(route)
                }
            }
        }
    }

    /// `action` runs (on the session's thread) after any session comes up or goes down.
    public func onSessionChange(_ action: @escaping @Sendable () -> Void) { lock.withLock { sessionChanged = action } }

    /// Peers configured, and those established now.
    public var peerCounts: (configured: Int, established: Int) {
        let all: [BGPSession] = lock.withLock { Array(sessions.values) }
        return (all.count, all.filter(\.isEstablished).count)
    }

    /// The configured peers: new ones start, removed ones end with a Cease, changed ones restart.
    public func setPeers(_ peers: [BGPPeerConfig]) {
        defer {
            // The deferral may end now (no peer at all, or all of them already sent End-of-RIB).
            let deferring: Bool = lock.withLock {
                peersSet = true
                return deferralEnds != nil
            }
            if deferring { markRoutesDirty() }
        }
        let wanted = Dictionary(peers.map { ($0.address, $0) }, uniquingKeysWith: { a, _ in a })
        var toStop: [BGPSession] = []
        var toStart: [BGPSession] = []
        lock.withLock {
            for (address, session) in sessions where wanted[address] != session.peer {
                toStop.append(session)
                sessions[address] = nil
                staleTimers[address] = nil
                refreshes[address] = nil
                reflected[address] = nil
                _ = rib.dropPeer(address)
            }
            for (address, peer) in wanted where sessions[address] == nil {
                let local = BGPSession.Local(
                    asn: config.asn, routerID: UInt32(truncatingIfNeeded: config.routerID.low),
                    holdTime: config.holdTime,
                    connectRetry: config.connectRetry,
                    gracefulRestart: config.gracefulRestartTime.map {
                        .init(restarting: restarted, restartTime: $0, families: [(1, 1, restarted), (2, 1, restarted)])
                    })
                let session = BGPSession(peer: peer, local: local, delegate: self, log: log)
                sessions[address] = session
                toStart.append(session)
                if let password = peer.password { try? listener?.setPassword(password, for: address) }
            }
        }
        for session in toStop { session.stop() }
        for session in toStart { session.start() }
        markRoutesDirty()
        if !toStop.isEmpty { reflect(nil) }
    }

    /// The import policy: stored paths are judged again, so routes it now rejects leave the kernel and
    /// those it now accepts go in.
    public func setImportPolicy(_ policy: BGPImportPolicy) {
        let changed: Bool = lock.withLock {
            guard rib.policy != policy else { return false }
            rib.policy = policy
            return true
        }
        if changed {
            markRoutesDirty()
            reflect(nil)
        }
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
        reflect(nil)
    }

    /// The communities and prepending of each peer's announcements: a peer whose export changed gets our
    /// routes again (an UPDATE replaces the path it had), on its open session.
    public func setExports(_ wanted: [IPAddress: BGPExport]) {
        let (changed, prefixes): ([BGPSession], [CIDR]) = lock.withLock {
            guard wanted != exports else { return ([], []) }
            let changed = sessions.values.filter {
                $0.isEstablished && wanted[$0.peer.address] != exports[$0.peer.address]
            }
            exports = wanted
            return (changed, advertised)
        }
        announce(prefixes, to: changed)
    }

    /// The node's addresses (its InternalIPs), the next hop of our routes unless `overrideNextHop`: a change
    /// is announced again to every peer.
    public func setNodeAddresses(_ addresses: [IPAddress]) {
        let (established, prefixes): ([BGPSession], [CIDR]) = lock.withLock {
            guard addresses != nodeAddresses else { return ([], []) }
            nodeAddresses = addresses
            return (sessions.values.filter(\.isEstablished), advertised)
        }
        guard !config.overrideNextHop else { return }
        announce(prefixes, to: established)
    }

    /// Our routes again to each of `sessions` (an UPDATE replaces the path the peer had).
    private func announce(_ prefixes: [CIDR], to sessions: [BGPSession]) {
        for session in sessions { for message in announcements(prefixes, for: session) { session.send(message) } }
    }

    /// Our routes' next hop on a session whose local address is `local`.
    private func nextHop(local: IPAddress) -> IPAddress {
        guard !config.overrideNextHop else { return local }
        return lock.withLock { nodeAddresses.first { $0.family == local.family } } ?? local
    }

    // MARK: Messages we send

    private func announcements(_ prefixes: [CIDR], for session: BGPSession) -> [BGPMessage] {
        guard let local = session.snapshot.localAddress else { return [] }
        var attributes = BGPPathAttributes()
        attributes.origin = .igp
        let external = session.peer.asn != config.asn
        let export = lock.withLock { exports[session.peer.address] } ?? BGPExport()
        let path = (external ? [config.asn] : []) + export.prepend
        attributes.asPath = path.isEmpty ? [] : [.init(.sequence, path)]
        if !external { attributes.localPref = 100 }
        if !export.communities.isEmpty { attributes.communities = export.communities }
        let families = Self.families(session.snapshot.peerOpen)
        let v4 = families.contains(AFI.ipv4.rawValue) ? prefixes.filter { $0.family == .ipv4 } : []
        let v6 = families.contains(AFI.ipv6.rawValue) ? prefixes.filter { $0.family == .ipv6 } : []
        let hop = nextHop(local: local)
        var updates: [BGPUpdate] = []
        if local.family == .ipv4 { updates += BGPUpdate.announcing(v4, attributes: attributes, nextHop: hop) }
        if local.family == .ipv6 { updates += BGPUpdate.announcing(v6, attributes: attributes, nextHop: hop) }
        return updates.map { .update($0) }
    }

    private func withdrawals(_ prefixes: [CIDR], for session: BGPSession) -> [BGPMessage] {
        BGPUpdate.withdrawing(prefixes).map { .update($0) }
    }

    // MARK: Route reflection

    /// Passes the best paths of `prefixes` (nil: every prefix) on to the iBGP peers route reflection gives them
    /// to (`only`: to that session alone) and withdraws what was reflected to a peer and no longer goes; sends
    /// only what differs from what the peer has from us, or everything again with `again` (a route refresh).
    private func reflect(_ prefixes: Set<CIDR>?, only: BGPSession? = nil, again: Bool = false) {
        guard let clusterID = config.clusterID else { return }
        reflecting.lock()
        defer { reflecting.unlock() }
        let work: [(BGPSession, [BGPMessage])] = lock.withLock {
            let own = Set(advertised)
            let targets = (only.map { [$0] } ?? Array(sessions.values)).filter {
                sessions[$0.peer.address] === $0 && $0.peer.asn == config.asn && $0.isEstablished
            }
            return targets.map { session in
                let address = session.peer.address
                let target = BGPReflection.Target(
                    address: address, client: session.peer.routeReflectorClient,
                    routerID: session.snapshot.peerOpen?.identifier)
                let families = Self.families(session.snapshot.peerOpen)
                var sent = reflected[address] ?? [:]
                var announce: [(CIDR, Reflected)] = []
                var withdraw: [CIDR] = []
                let candidates = prefixes ?? Set(rib.paths.keys).union(sent.keys)
                for prefix in candidates {
                    let afi = prefix.family == .ipv4 ? AFI.ipv4 : AFI.ipv6
                    if let best = rib.best(prefix), !own.contains(prefix), families.contains(afi.rawValue),
                        best.nextHop.family == prefix.family, BGPReflection.reflects(best, to: target)
                    {
                        let path = Reflected(
                            attributes: BGPReflection.attributes(of: best, clusterID: clusterID), nextHop: best.nextHop)
                        if again || sent[prefix] != path { announce.append((prefix, path)) }
                        sent[prefix] = path
                    } else if sent.removeValue(forKey: prefix) != nil, !own.contains(prefix) {
                        withdraw.append(prefix)
                    }
                }
                reflected[address] = sent.isEmpty ? nil : sent
                return (session, Self.reflectionMessages(announce: announce, withdraw: withdraw))
            }
        }
        for (session, messages) in work { for message in messages { session.send(message) } }
    }

    /// UPDATEs for reflected paths: prefixes with the same attributes and next hop share one.
    private static func reflectionMessages(announce: [(CIDR, Reflected)], withdraw: [CIDR]) -> [BGPMessage] {
        var updates = BGPUpdate.withdrawing(withdraw.sorted { CIDR.precedes($0, $1) })
        let ordered = announce.sorted { a, b in
            a.1.nextHop != b.1.nextHop ? a.1.nextHop < b.1.nextHop : CIDR.precedes(a.0, b.0)
        }
        var group: [CIDR] = []
        var current: Reflected?
        func flush() {
            guard let current, !group.isEmpty else { return }
            updates += BGPUpdate.announcing(group, attributes: current.attributes, nextHop: current.nextHop)
            group = []
        }
        for (prefix, path) in ordered {
            if path != current || prefix.family != group.first?.family {
                flush()
                current = path
            }
            group.append(prefix)
        }
        flush()
        return updates.map { .update($0) }
    }

    // MARK: Session events

    /// The address families both sides announced (IPv4 unicast alone when the peer announced none).
    static func families(_ open: BGPOpen?) -> Set<UInt16> {
        let theirs = open?.multiprotocol.filter { $0.safi == SAFI.unicast.rawValue }.map(\.afi) ?? []
        return theirs.isEmpty ? [AFI.ipv4.rawValue] : Set(theirs).intersection([AFI.ipv4.rawValue, AFI.ipv6.rawValue])
    }

    func sessionEstablished(_ session: BGPSession) {
        let open = session.snapshot.peerOpen
        let (prefixes, purged): ([CIDR], Set<CIDR>) = lock.withLock {
            // Back from a restart: stale paths of a family whose forwarding state the peer did not keep
            // (no F bit in its new OPEN) go at once (RFC 4724 §4.2); the others wait for its End-of-RIB.
            var purged = Set<CIDR>()
            for family in Self.familiesNotPreserved(open) {
                purged.formUnion(rib.purgeStale(session.peer.address, family: family))
            }
            if !rib.hasStale(session.peer.address) { staleTimers[session.peer.address] = nil }
            // A new session has nothing from us yet (a reflection racing the last session's end may have
            // recorded something after it was cleared).
            reflected[session.peer.address] = nil
            return (advertised, purged)
        }
        if !purged.isEmpty { markRoutesDirty(purged) }
        log("bgp: peer \(session.peer.address) AS \(session.peer.asn) established")
        for message in announcements(prefixes, for: session) { session.send(message) }
        if !purged.isEmpty { reflect(purged) }
        reflect(nil, only: session)
        // End-of-RIB for each negotiated family (RFC 4724): the peer knows it has everything. Nothing is
        // sent for a family the peer did not announce: some peers end the session for it.
        for afi in Self.families(session.snapshot.peerOpen).sorted() { session.send(.update(.endOfRIB(afi: afi))) }
        lock.withLock { sessionChanged }?()
    }

    /// The families of a peer's (new) OPEN whose forwarding state it did not keep: all, without graceful restart.
    static func familiesNotPreserved(_ open: BGPOpen?) -> [IPAddress.Family] {
        let families = open?.gracefulRestart?.families ?? []
        let kept = Set(
            families.filter { $0.forwardingPreserved && $0.safi == SAFI.unicast.rawValue }
                .compactMap { BGPPathAttributes.family($0.afi) })
        return [IPAddress.Family.ipv4, .ipv6].filter { !kept.contains($0) }
    }

    /// The families a peer's graceful restart capability lists: their routes are kept while it restarts.
    static func familiesKept(_ open: BGPOpen?) -> Set<IPAddress.Family> {
        let families = open?.gracefulRestart?.families ?? []
        return Set(families.filter { $0.safi == SAFI.unicast.rawValue }.compactMap { BGPPathAttributes.family($0.afi) })
    }

    func session(_ session: BGPSession, received update: BGPUpdate) -> BGPError? {
        if let why = update.treatAsWithdraw {
            log("bgp: peer \(session.peer.address): UPDATE treated as withdraw: \(why)")
        }
        for item in update.discarded { log("bgp: peer \(session.peer.address): discarded \(item)") }
        let open = session.snapshot.peerOpen
        let address = session.peer.address
        var path = BGPRib.Path(
            peer: address, peerASN: session.peer.asn, peerRouterID: open?.identifier ?? 0,
            external: session.peer.asn != config.asn, nextHop: address,
            attributes: BGPPathAttributes())
        path.fromClient = config.clusterID != nil && session.peer.routeReflectorClient
        let (changed, count): (Set<CIDR>, Int?) = lock.withLock {
            var changed = rib.apply(update, from: path)
            if update.isEndOfRIB {
                changed.formUnion(rib.purgeStale(address))
                staleTimers[address] = nil
                endOfRIBFrom.insert(address)
            }
            // Past the limit: the peer's paths go now, with the session (RFC 4486).
            if let limit = config.maxPrefixes, rib.receivedCount(address) > limit {
                let count = rib.receivedCount(address)
                changed.formUnion(rib.dropPeer(address))
                staleTimers[address] = nil
                return (changed, count)
            }
            return (changed, nil)
        }
        markRoutesDirty(changed)
        if !changed.isEmpty { reflect(changed) }
        guard let count, let limit = config.maxPrefixes else { return nil }
        // Data: the AFI, SAFI and the limit (RFC 4486 §4).
        let afi = update.announced.first?.family == .ipv6 ? AFI.ipv6 : AFI.ipv4
        var data = WireWriter()
        data.u16(afi.rawValue)
        data.u8(SAFI.unicast.rawValue)
        data.u32(UInt32(clamping: limit))
        log(
            "bgp: peer \(address) sent \(count) prefixes, more than the limit of \(limit) "
                + "(--peer-router-max-prefixes): ending the session and dropping its routes")
        return BGPError(6, 1, data: data.bytes, "\(count) prefixes, more than the limit of \(limit)")
    }

    func session(_ session: BGPSession, refreshRequested refresh: BGPRouteRefresh) {
        let prefixes: [CIDR] = lock.withLock {
            refreshes[session.peer.address, default: 0] += 1
            return advertised
        }
        log("bgp: peer \(session.peer.address) asked for a route refresh")
        for message in announcements(prefixes, for: session) { session.send(message) }
        reflect(nil, only: session, again: true)
        if Self.families(session.snapshot.peerOpen).contains(refresh.afi) {
            session.send(.update(.endOfRIB(afi: refresh.afi)))
        }
    }

    func sessionEnded(_ session: BGPSession, reason: String, graceful: Bool) {
        let open = session.snapshot.peerOpen
        let restartTime = open?.gracefulRestart?.restartTime ?? 0
        // Graceful restart keeps the routes of the families the peer's capability listed (RFC 4724 §4.2),
        // until its restart time ends; the others go now.
        let kept = graceful ? Self.familiesKept(open) : []
        let keptText = kept.map(\.rawValue).sorted().joined(separator: ", ")
        log(
            "bgp: peer \(session.peer.address) down: \(reason)"
                + (kept.isEmpty ? "" : "; keeping its routes for its restart (\(restartTime) s): \(keptText)"))
        let changed: Set<CIDR> = lock.withLock {
            guard sessions[session.peer.address] === session else { return [] }
            reflected[session.peer.address] = nil
            let changed = rib.dropPeer(session.peer.address, keepAsStale: kept)
            if rib.hasStale(session.peer.address) {
                staleTimers[session.peer.address] = Date(timeIntervalSinceNow: Double(restartTime))
            } else {
                staleTimers[session.peer.address] = nil
            }
            return changed
        }
        markRoutesDirty(changed)
        if !changed.isEmpty { reflect(changed) }
        lock.withLock { sessionChanged }?()
    }

    // MARK: Threads

    private func acceptLoop(_ listener: BGPListener) {
        var backoff = 0.0
        while !lock.withLock({ stopped }) {
            let accepted: BGPTransport?
            do {
                accepted = try listener.accept(timeout: 0.5)
                backoff = 0
            } catch {
                // Out of descriptors or memory: the connection stays in the backlog, so the socket stays
                // readable; wait (100 ms, doubling to 1 s) rather than spin.
                if backoff == 0 { log("bgp: \(error); backing off") }
                backoff = backoff == 0 ? 0.1 : min(1, backoff * 2)
                Thread.sleep(forTimeInterval: backoff)
                continue
            }
            guard let connection = accepted else { continue }
            let session = lock.withLock { sessions[connection.remote] }
            if let session {
                session.accept(connection)
            } else {
                // Not a configured peer: close (RFC 4271 §8: a connection from an unknown peer is refused).
                try? connection.send(.notification(BGPNotification(code: 6, subcode: 5)), options: .init())
                connection.shutdown()
                log(
                    "bgp: closed a connection from \(connection.remote), not a configured peer, "
                        + "with Cease / Connection Rejected (6/5)")
            }
        }
    }

    /// `prefixes`: those that changed; nil asks for a full comparison with the kernel.
    func markRoutesDirty(_ prefixes: Set<CIDR>? = nil) {
        syncCondition.withLock {
            if let prefixes, pendingPrefixes != nil || !routesDirty {
                // In place: a union made a new set of everything pending for each UPDATE of a full table.
                if !routesDirty { pendingPrefixes = [] }
                pendingPrefixes?.formUnion(prefixes)
            } else {
                pendingPrefixes = nil
            }
            routesDirty = true
            syncCondition.signal()
        }
    }

    /// Our route protocol.
    static let proto = NodeNetwork.kubeRouterProtocol

    /// Keeps the kernel's routes of our protocol equal to the best paths: changed prefixes one by one
    /// as UPDATEs arrive; every 10 s a full comparison with the kernel puts back what a link bounce
    /// removed. A restarting peer's stale paths go exactly when its restart time ends: the loop wakes then.
    private func syncLoop() {
        while true {
            let proceed: Bool = syncCondition.withLock {
                while !routesDirty && !lock.withLock({ stopped }) {
                    let timers = lock.withLock { [staleTimers.values.min(), deferralEnds].compactMap { $0 }.min() }
                    let wake = min(nextFullSync, timers ?? .distantFuture)
                    if Date() >= wake { break }
                    _ = syncCondition.wait(until: wake)
                }
                return !lock.withLock { stopped }
            }
            guard proceed else { return }
            if !syncRoutes() { Thread.sleep(forTimeInterval: 1) }
        }
    }

    /// The route sync's own state between syncs.
    private var nextFullSync = Date()
    private var installedPeak = 0
    private var ribHighWater = 0
    /// Under `syncCondition`.
    private var routeCountersValue = RouteCounters()
    private var removedSinceTrim = 0

    /// One route sync: takes the pending prefixes (or all, for a full sync: the first, every 10 s, after
    /// a failure or when asked), ends expired restart times, and applies `RouteDiff`'s changes: against the
    /// kernel read back for a full sync, against what this process last applied for the others. Whether it
    /// succeeded (a failure asks for a full sync). Called by the sync thread (tests call it directly).
    @discardableResult
    func syncRoutes() -> Bool {
        if let ended = lock.withLock({ deferralEndsNow() }) {
            log("bgp: \(ended)")
            syncCondition.withLock { nextFullSync = Date() }
        }
        let (full, pending): (Bool, Set<CIDR>) = syncCondition.withLock {
            let full = Date() >= nextFullSync || (routesDirty && pendingPrefixes == nil)
            let pending = pendingPrefixes ?? []
            routesDirty = false
            pendingPrefixes = nil
            return (full, pending)
        }
        var prefixes = pending
        let expired: [(IPAddress, Int)] = lock.withLock {
            var expired: [(IPAddress, Int)] = []
            for (peer, deadline) in staleTimers where deadline <= Date() {
                let gone = rib.purgeStale(peer)
                prefixes.formUnion(gone)
                staleTimers[peer] = nil
                expired.append((peer, gone.count))
            }
            return expired
        }
        for (peer, count) in expired {
            log("bgp: peer \(peer): its restart time ended; removed its \(count) stale route(s)")
        }
        if !expired.isEmpty { reflect(prefixes) }
        guard let routes else { return true }
        do {
            var removed = 0
            if !full {
                // Prefix by prefix against what this process last applied and the other protocols' routes it last
                // read: no table of routes built or sorted (that was most of an UPDATE's cost at a full table).
                let wanted: [(CIDR, IPAddress?)] = lock.withLock { prefixes.map { ($0, rib.best($0)?.nextHop) } }
                let diff = RouteDiff.changes(
                    wanted: wanted, installed: installed, others: otherProtocols, proto: Self.proto)
                var nextHops: [CIDR: IPAddress] = [:]
                for (prefix, nextHop) in wanted where diff.blocked[prefix] != nil { nextHops[prefix] = nextHop }
                let pass = try reconcile(
                    diff.changes, blocked: diff.blocked, nextHops: nextHops, among: prefixes, in: routes)
                removed = pass.removed
                installedPeak = max(installedPeak, installed.count)
                if installedPeak >= 1024, installed.count * 4 <= installedPeak {
                    installed = Dictionary(uniqueKeysWithValues: installed.map { ($0.key, $0.value) })
                    installedPeak = installed.count
                }
            } else {
                // Read under the lock, ordered outside it: at 100,000 routes the ordering took seconds, and the
                // sessions' UPDATEs and `bgp peers` waited for it every 10 s.
                let desired = BGPRib.ordered(lock.withLock { rib.unorderedKernelRoutes(proto: Self.proto) })
                var actual: [KernelRoute] = []
                for family in [IPAddress.Family.ipv4, .ipv6] { actual += try routes.routes(family: family, proto: nil) }
                var others: [CIDR: UInt8] = [:]
                for route in actual where route.proto != Self.proto { others[route.destination] = route.proto }
                otherProtocols = others
                let blocked = RouteDiff.blocked(desired: desired, actual: actual, proto: Self.proto)
                var nextHops: [CIDR: IPAddress] = [:]
                for route in desired where blocked[route.destination] != nil {
                    nextHops[route.destination] = route.gateways.first
                }
                let pass = try reconcile(
                    RouteDiff.changes(desired: desired, actual: actual, proto: Self.proto), blocked: blocked,
                    nextHops: nextHops, among: nil, in: routes)
                removed = pass.removed
                let blockedNow = pass.blocked
                var now: [CIDR: IPAddress] = [:]
                for route in desired where blockedNow[route.destination] == nil {
                    now[route.destination] = route.gateways.first
                }
                installed = now
                installedPeak = now.count
                nextFullSync = Date(timeIntervalSinceNow: 10)
            }
            // A large drop (a full table withdrawn or a peer gone), even when spread over many small syncs:
            // the allocator gives the memory back.
            let size = lock.withLock { rib.paths.count }
            removedSinceTrim += removed
            ribHighWater = max(ribHighWater, size)
            if removedSinceTrim >= 1000 || size + 1000 <= ribHighWater {
                Memory.trim()
                removedSinceTrim = 0
                ribHighWater = size
            }
            return true
        } catch {
            log("bgp: route sync failed (retrying with a full sync): \(error)")
            markRoutesDirty()
            return false
        }
    }

    /// One pass of the route reconciler: the diff (pure) applied to the kernel, then the destinations left to
    /// other protocols, noted for `krctl bgp routes` (`among`: the prefixes looked at; nil: all).
    private func reconcile(
        _ changes: [RouteChange], blocked: [CIDR: UInt8], nextHops: [CIDR: IPAddress], among: Set<CIDR>?,
        in routes: any RouteBackend
    ) throws -> (removed: Int, blocked: [CIDR: UInt8]) {
        var changes = changes
        // During the start-up deferral the routes a previous run left stay, unless this run owns them again.
        let kept: Set<CIDR> = lock.withLock {
            for case .add(let route) in changes { leftovers.remove(route.destination) }
            for case .replace(let route) in changes { leftovers.remove(route.destination) }
            return deferralEnds == nil ? [] : leftovers
        }
        if !kept.isEmpty {
            changes.removeAll { change in
                if case .delete(let route) = change { return kept.contains(route.destination) }
                return false
            }
        }
        let applied = try apply(changes, to: routes)
        let blocked = blocked.merging(applied.blocked) { a, _ in a }
        var nextHops = nextHops
        for case .add(let route) in changes where applied.blocked[route.destination] != nil {
            nextHops[route.destination] = route.gateways.first
        }
        noteBlocked(blocked, among: among, nextHops: nextHops)
        return (applied.removed, blocked)
    }

    /// Applies the changes in order, keeping `installed` equal to what is in; returns how many routes went,
    /// and the destinations found held by another protocol when adding (a route put there since the last
    /// full sync read the kernel: it stays, and ours is left out).
    private func apply(
        _ changes: [RouteChange],
        to routes: any RouteBackend
    ) throws -> (removed: Int, blocked: [CIDR: UInt8]) {
        var removed = 0
        var blocked: [CIDR: UInt8] = [:]
        var reinjected = 0
        defer {
            let installedNow = installed.count
            syncCondition.withLock {
                routeCountersValue.changes += changes.count
                routeCountersValue.reinjections += reinjected
                routeCountersValue.installed = installedNow
            }
        }
        // Pipelined: the backend sends many changes per round trip; each answer is then handled as the single
        // call's would be. A failure does not stop the others (`installed` follows what is in); the first is
        // thrown at the end.
        let results = routes.apply(changes)
        var firstError: (any Error)?
        for (change, result) in zip(changes, results) {
            switch change {
            case .add(let route):
                // Ours by what this process applied, yet missing from the kernel: put back.
                if installed[route.destination] == route.gateways.first { reinjected += 1 }
                if let result {
                    guard result is RouteExists else {
                        firstError = firstError ?? result
                        continue
                    }
                    do {
                        // Whose is it? One read of the family (rare: someone added a route to a peer's prefix).
                        let present = try routes.routes(family: route.destination.family, proto: nil)
                            .filter { $0.destination == route.destination }
                        if let other = present.first(where: { $0.proto != Self.proto }) {
                            otherProtocols[route.destination] = other.proto
                            blocked[route.destination] = other.proto
                            continue
                        }
                        try routes.replace(route)  // ours, left by an earlier run
                    } catch {
                        firstError = firstError ?? error
                        continue
                    }
                }
                installed[route.destination] = route.gateways.first
            case .replace(let route):
                if let result {
                    firstError = firstError ?? result
                    continue
                }
                installed[route.destination] = route.gateways.first
            case .delete(let route):
                // Already gone is fine: a link went down and took it, or someone removed it.
                if let result, !(result is RouteNotFound) {
                    firstError = firstError ?? result
                    continue
                }
                installed[route.destination] = nil
                removed += 1
            }
        }
        if let firstError { throw firstError }
        return (removed, blocked)
    }

    /// Records the best paths left out for another protocol's route (of `among`, or of all when nil), and
    /// logs each once, when it starts being left out.
    private func noteBlocked(_ now: [CIDR: UInt8], among prefixes: Set<CIDR>?, nextHops: [CIDR: IPAddress]) {
        let newly: [(CIDR, UInt8)] = lock.withLock {
            let before = blocked
            if let prefixes {
                for prefix in prefixes { blocked[prefix] = now[prefix] }
            } else {
                blocked = now
            }
            return now.filter { before[$0.key] != $0.value }.map { ($0.key, $0.value) }
        }
        guard !newly.isEmpty else { return }
        for (prefix, proto) in newly.sorted(by: { $0.0.description < $1.0.description }) {
            let via = nextHops[prefix].map { " via \($0)" } ?? ""
            log(
                "bgp: not installing \(prefix)\(via): the kernel has a route of another protocol to it "
                    + "(proto \(RouteDiff.protocolName(proto))), which stays")
        }
    }

    // MARK: Status

    /// A NOTIFICATION as `krctl bgp peers` shows it.
    public struct NotificationStatus: Sendable, Codable, Equatable {
        public enum Direction: String, Sendable, Codable { case sent, received }
        public var direction: Direction
        public var code: UInt8
        public var subcode: UInt8
        /// The IANA names, e.g. `Cease / Maximum Number of Prefixes Reached (6/1)`.
        public var name: String
        /// Why we sent it.
        public var reason: String?
        public var time: String
    }

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
        /// Received but refused by the import policy (or an AS loop); optional for older agents.
        public var prefixesRejected: Int?
        public var prefixesAdvertised: Int
        public var holdTime: Int?
        public var capabilities: [String]
        /// The last connection or session error; a later one replaces it.
        public var lastError: String?
        public var lastErrorTime: String?
        /// The last NOTIFICATION sent or received, kept when later errors come.
        public var lastNotification: NotificationStatus?
        /// ROUTE-REFRESH requests the peer sent (optional for older agents).
        public var routeRefreshesReceived: Int?
        /// Messages since the peer was configured, and how often the session came up (optional for older
        /// agents).
        public var updatesReceived: Int?
        public var updatesSent: Int?
        public var notificationsReceived: Int?
        public var notificationsSent: Int?
        public var establishedTransitions: Int?
        /// Route reflection: the peer is our client, and how many learned routes are reflected to it (beside
        /// `prefixesAdvertised`, our own); nil for older agents and when we reflect nothing.
        public var routeReflectorClient: Bool?
        public var prefixesReflected: Int?
    }

    /// The route sync's counts, for metrics.
    public struct RouteCounters: Sendable, Equatable {
        /// Routes of ours in the kernel, as this process applied them.
        public var installed = 0
        /// Routes added, replaced or removed since start.
        public var changes = 0
        /// Routes a full sync had to put back (someone or something removed them).
        public var reinjections = 0
    }

    public var routeCounters: RouteCounters {
        syncCondition.withLock { routeCountersValue }
    }

    public func peerStatus() -> [PeerStatus] {
        let all: [BGPSession] = lock.withLock { Array(sessions.values) }
        // Counted under the lock: a copy of the RIB would be duplicated by the next UPDATE.
        let counts: [IPAddress: (received: Int, accepted: Int, rejected: Int)] = lock.withLock {
            Dictionary(all.map { ($0.peer.address, rib.counts(for: $0.peer.address)) }, uniquingKeysWith: { a, _ in a })
        }
        let (advertised, refreshes, reflectedCounts): ([CIDR], [IPAddress: Int], [IPAddress: Int]) = lock.withLock {
            (self.advertised, self.refreshes, self.reflected.mapValues(\.count))
        }
        return all.map { (session: BGPSession) -> PeerStatus in
            let s = session.snapshot
            let count = counts[session.peer.address] ?? (0, 0, 0)
            let established = s.state == .established
            let advertisedCount = advertised.filter { $0.family == (s.localAddress?.family ?? .ipv4) }.count
            let notification = s.lastNotification.map {
                NotificationStatus(
                    direction: $0.sent ? .sent : .received, code: $0.notification.code,
                    subcode: $0.notification.subcode, name: $0.notification.description,
                    reason: $0.reason, time: Timestamp.string($0.at))
            }
            return PeerStatus(
                address: session.peer.address.description, asn: session.peer.asn, state: s.state.rawValue,
                origin: session.peer.origin,
                establishedSince: s.establishedAt.map { Timestamp.string($0) },
                uptimeSeconds: s.establishedAt.map { Int(Date().timeIntervalSince($0)) },
                prefixesReceived: count.received, prefixesAccepted: count.accepted,
                prefixesRejected: count.rejected,
                prefixesAdvertised: established ? advertisedCount : 0,
                holdTime: established ? Int(s.holdTime) : nil,
                capabilities: established ? (s.peerOpen?.capabilities.map { $0.name } ?? []) : [],
                lastError: s.lastError, lastErrorTime: s.lastErrorAt.map { Timestamp.string($0) },
                lastNotification: notification,
                routeRefreshesReceived: refreshes[session.peer.address] ?? 0,
                updatesReceived: s.counters.updatesReceived, updatesSent: s.counters.updatesSent,
                notificationsReceived: s.counters.notificationsReceived,
                notificationsSent: s.counters.notificationsSent, establishedTransitions: s.counters.established,
                routeReflectorClient: config.clusterID == nil ? nil : session.peer.routeReflectorClient,
                prefixesReflected: config.clusterID == nil ? nil : reflectedCounts[session.peer.address] ?? 0)
        }.sorted { $0.address < $1.address }
    }

    /// A path the import policy refused.
    public struct RejectedPath: Sendable, Codable, Equatable {
        public var peer: String
        public var nextHop: String
        public var reason: BGPImportPolicy.Reason
    }

    /// The RIB's best paths beside the kernel's routes of our protocol.
    public struct RouteStatus: Sendable, Codable, Equatable {
        /// How a prefix's best path stands in the kernel. The raw values are what `-o json` shows.
        public enum State: String, Sendable, Codable {
            case ok
            case missingInKernel = "missing in kernel"
            case staleInKernel = "stale in kernel"
            case differentNextHop = "different next hop"
            case rejected
            case ownPrefix = "own prefix (not installed)"
            case kernelRouteOfAnotherProtocol = "not installed: kernel route of another protocol"

            /// The kernel differs from what the agent means it to hold.
            public var isDrift: Bool { self == .missingInKernel || self == .staleInKernel || self == .differentNextHop }
        }

        public var prefix: String
        public var nextHop: String?
        public var peer: String?
        public var asPath: [UInt32]
        public var paths: Int
        public var inKernel: Bool
        public var kernelNextHops: [String]
        public var status: State
        /// The paths refused, each with why (optional for older agents).
        public var rejected: [RejectedPath]?
        /// Why the best path is not in the kernel (`kernel-route-of-another-protocol`); nil when it is
        /// (or for older agents).
        public var notInstalled: BGPImportPolicy.Reason?
        /// The protocol of the kernel's route that kept ours out (`static`, `bird`, a number).
        public var kernelProtocol: String?
    }

    public func routeStatus() -> [RouteStatus] {
        var kernel: [CIDR: KernelRoute] = [:]
        for family in [IPAddress.Family.ipv4, .ipv6] {
            for route in (try? routes?.routes(family: family, proto: Self.proto)) ?? [] {
                kernel[route.destination] = route
            }
        }
        // Built under the lock rather than from a copy of the RIB, which the next UPDATE would duplicate; but
        // a batch of prefixes at a time, so that a full table's answer (seconds of work at 100,000 prefixes)
        // never holds the sessions' UPDATEs, their status (`bgp peers`) or the route sync up for long.
        let prefixes: [CIDR] = lock.withLock { Array(rib.paths.keys) }
        var result: [RouteStatus] = []
        result.reserveCapacity(prefixes.count)
        for start in stride(from: 0, to: prefixes.count, by: Self.routeStatusBatch) {
            let batch = prefixes[start..<min(start + Self.routeStatusBatch, prefixes.count)]
            lock.withLock { appendRouteStatus(batch, kernel: &kernel, to: &result) }
        }
        for (prefix, k) in kernel {
            result.append(
                RouteStatus(
                    prefix: prefix.description, nextHop: nil, peer: nil, asPath: [], paths: 0, inKernel: true,
                    kernelNextHops: k.gateways.map { $0.description }, status: .staleInKernel,
                    rejected: nil))
        }
        return result.sorted { $0.prefix < $1.prefix }
    }

    /// Prefixes the route status reads per hold of the lock.
    static let routeStatusBatch = 2048

    /// The status of `prefixes` (those still in the RIB), each matched with its kernel route (taken out of
    /// `kernel`). Called with the lock held.
    private func appendRouteStatus(
        _ prefixes: ArraySlice<CIDR>, kernel: inout [CIDR: KernelRoute], to result: inout [RouteStatus]
    ) {
        for prefix in prefixes {
            guard let paths = rib.paths[prefix] else { continue }  // withdrawn since the list was taken
            let best = rib.best(prefix)
            let k = kernel.removeValue(forKey: prefix)
            let rejected = paths.compactMap { path in
                path.verdict.map {
                    RejectedPath(peer: path.peer.description, nextHop: path.nextHop.description, reason: $0)
                }
            }
            var status = RouteStatus.State.ok
            if best != nil && k == nil && config.installRoutes { status = .missingInKernel }
            if let best, let k, k.gateways != [best.nextHop] { status = .differentNextHop }
            let other = best == nil ? nil : blocked[prefix]
            if other != nil { status = .kernelRouteOfAnotherProtocol }
            if best == nil {
                let own = rejected.allSatisfy { $0.reason == .ownPodCIDR }
                status = own ? .ownPrefix : .rejected
            }
            result.append(
                RouteStatus(
                    prefix: prefix.description, nextHop: best?.nextHop.description,
                    peer: best?.peer.description,
                    asPath: best?.attributes.asns ?? [], paths: paths.count, inKernel: k != nil,
                    kernelNextHops: k?.gateways.map { $0.description } ?? [], status: status,
                    rejected: rejected.isEmpty ? nil : rejected,
                    notInstalled: other.map { _ in .kernelRouteOfAnotherProtocol },
                    kernelProtocol: other.map { RouteDiff.protocolName($0) }))
        }
    }
}
