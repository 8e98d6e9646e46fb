import Foundation
import Kernel
import KubeModel
import Planning

/// What a session tells the speaker, on the session's thread.
protocol BGPSessionDelegate: AnyObject, Sendable {
    func sessionEstablished(_ session: BGPSession)
    /// An error to end the session with (a NOTIFICATION is sent), such as too many prefixes.
    func session(_ session: BGPSession, received update: BGPUpdate) -> BGPError?
    func session(_ session: BGPSession, refreshRequested refresh: BGPRouteRefresh)
    /// `graceful`: the peer may be restarting (no NOTIFICATION seen, graceful restart negotiated).
    func sessionEnded(_ session: BGPSession, reason: String, graceful: Bool)
}

/// One peer's session: the finite state machine of RFC 4271 §8 on a thread of its own, with the
/// connect-retry, hold and keepalive timers, collision detection (§6.8) for a connection the
/// listener hands over, and reconnection after any error.
final class BGPSession: @unchecked Sendable {
    enum State: String, Sendable {
        case idle = "Idle", connect = "Connect", active = "Active", openSent = "OpenSent"
        case openConfirm = "OpenConfirm", established = "Established"
    }

    struct Local: Sendable {
        var asn: UInt32
        var routerID: UInt32
        var holdTime: UInt16
        var connectRetry: Double
        var gracefulRestart: BGPCapability.GracefulRestart?
        /// After a Cease for too many prefixes: how long the session stays down (no connects; the peer's
        /// connections refused), so that a peer cannot make us take its full table every second.
        var maxPrefixHoldDown: Double = 10
    }

    /// The last NOTIFICATION of the session, either way, as `krctl bgp peers` shows it.
    struct NotificationRecord: Sendable, Equatable {
        var sent: Bool
        var notification: BGPNotification
        /// Why we sent it (our log's sentence), or nil for a received one.
        var reason: String?
        var at: Date
    }

    let peer: BGPPeerConfig
    let local: Local
    private weak var delegate: (any BGPSessionDelegate)?
    private let log: @Sendable (String) -> Void
    private let condition = NSCondition()
    private var stopped = false
    /// A connection the listener accepted, not yet taken by the loop: at most one (a newer one replaces it).
    private var incoming: BGPTransport?
    /// The last connection failure logged, so that a peer refusing every second is logged once.
    private var lastLoggedError: String?
    /// Until when the session stays down after a Cease for too many prefixes.
    private var holdDownUntil: Date?

    /// Messages and transitions since the session was configured (metrics), under `condition`.
    struct Counters: Sendable, Equatable {
        var updatesReceived = 0
        var updatesSent = 0
        var notificationsReceived = 0
        var notificationsSent = 0
        /// Times the session reached Established.
        var established = 0
    }
    private var counters = Counters()

    // State for status reports, under `condition`.
    private(set) var state: State = .idle
    private(set) var establishedAt: Date?
    private(set) var lastError: String?
    private(set) var lastErrorAt: Date?
    private(set) var lastNotification: NotificationRecord?
    private(set) var peerOpen: BGPOpen?
    private(set) var negotiatedHoldTime: UInt16 = 0
    private(set) var options = BGPMessage.Options()
    private(set) var localAddress: IPAddress?
    private var transport: BGPTransport?

    init(
        peer: BGPPeerConfig, local: Local, delegate: any BGPSessionDelegate,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.peer = peer
        self.local = local
        self.delegate = delegate
        self.log = log
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "bgp \(peer.address)"
        thread.start()
    }

    /// Ends the session and stops reconnecting. `notify`: with a Cease / Administrative Shutdown (6/2)
    /// carrying `communication` (RFC 9003: a length byte, then at most 255 bytes of UTF-8); without one the
    /// peer sees the connection close, as when a speaker that negotiated graceful restart restarts, and
    /// keeps our routes.
    func stop(notify notifying: Bool = true, communication: String? = nil) {
        let current: BGPTransport? = condition.withLock {
            stopped = true
            condition.broadcast()
            return transport
        }
        if let current {
            if notifying {
                notify(
                    current, BGPNotification(code: 6, subcode: 2, data: Self.shutdownCommunication(communication)),
                    reason: communication ?? "the peer is no longer configured or the speaker stops")
            }
            current.shutdown()
        }
        let pending = condition.withLock { () -> BGPTransport? in
            defer { incoming = nil }
            return incoming
        }
        pending?.shutdown()
    }

    /// RFC 9003's shutdown communication: the UTF-8 text cut to 255 bytes on a character boundary,
    /// after its length.
    static func shutdownCommunication(_ text: String?) -> [UInt8] {
        guard let text, !text.isEmpty else { return [] }
        var bytes: [UInt8] = []
        for character in text {
            let encoded = Array(String(character).utf8)
            if bytes.count + encoded.count > 255 { break }
            bytes += encoded
        }
        return [UInt8(bytes.count)] + bytes
    }

    /// A connection the listener accepted from this peer. Only one waits for the loop: an older one
    /// still waiting is closed (Cease, Connection Rejected), so a peer's address cannot hold descriptors;
    /// but an older one whose peer has already spoken (its OPEN waits to be read) is kept over a newer silent
    /// one, so that silent connections from the peer's address cannot push the real session out.
    func accept(_ connection: BGPTransport) {
        // What we send on it leaves with the peer's TTL (the SYN-ACK went with the listener's).
        if let ttl = peer.ttl { try? connection.setTTL(ttl) }
        let keepOlder = condition.withLock { incoming.map { $0.hasUnreadData && !connection.hasUnreadData } ?? false }
        if keepOlder {
            reject(connection, reason: "the peer's waiting connection has already sent its OPEN")
            return
        }
        let displaced: BGPTransport? = condition.withLock {
            defer {
                incoming = connection
                condition.broadcast()
            }
            return incoming
        }
        if let displaced { reject(displaced, reason: "a newer connection from the peer replaces it") }
    }

    /// Sends a NOTIFICATION on a connection, logs it and records it as the session's last.
    private func notify(_ connection: BGPTransport, _ notification: BGPNotification, reason: String) {
        let opts = condition.withLock { options }
        try? connection.send(.notification(notification), options: opts)
        log("bgp: peer \(peer.address): sent NOTIFICATION \(notification): \(reason)")
        condition.withLock {
            lastNotification = NotificationRecord(sent: true, notification: notification, reason: reason, at: Date())
            counters.notificationsSent += 1
        }
    }

    /// Closes a surplus connection with a Cease (Connection Rejected).
    private func reject(_ connection: BGPTransport, reason: String) {
        try? connection.send(.notification(BGPNotification(code: 6, subcode: 5)), options: BGPMessage.Options())
        connection.shutdown()
        log("bgp: peer \(peer.address): closed a connection with Cease / Connection Rejected (6/5): \(reason)")
    }

    /// A connection failure, logged once until it changes.
    private func failed(_ error: String) {
        let isNew: Bool = condition.withLock {
            lastError = error
            lastErrorAt = Date()
            defer { lastLoggedError = error }
            return lastLoggedError != error
        }
        if isNew { log("bgp: peer \(peer.address): \(error)") }
    }

    /// Sends a message on the established session (from the speaker's thread).
    func send(_ message: BGPMessage) {
        let (current, opts, ready) = condition.withLock { (transport, options, state == .established) }
        guard ready, let current else { return }
        do {
            try current.send(message, options: opts)
            if case .update = message { condition.withLock { counters.updatesSent += 1 } }
        } catch {
            current.shutdown()
        }
    }

    var isEstablished: Bool { condition.withLock { state == .established } }

    struct Snapshot: Sendable {
        var state: State
        var establishedAt: Date?
        var lastError: String?
        var lastErrorAt: Date?
        var lastNotification: NotificationRecord?
        var peerOpen: BGPOpen?
        var holdTime: UInt16
        var localAddress: IPAddress?
        var counters: Counters
    }

    var snapshot: Snapshot {
        condition.withLock {
            Snapshot(
                state: state, establishedAt: establishedAt, lastError: lastError, lastErrorAt: lastErrorAt,
                lastNotification: lastNotification, peerOpen: peerOpen, holdTime: negotiatedHoldTime,
                localAddress: localAddress, counters: counters)
        }
    }

    private func set(_ newState: State) { condition.withLock { state = newState } }

    // MARK: The loop

    /// Waits until `deadline` for a connection the listener hands over (nil when none came); during a
    /// hold-down those are refused. Returns nil for `stopped` when the session stops.
    private func waitForIncoming(until deadline: Date) -> (stopped: Bool, connection: BGPTransport?) {
        while true {
            let (stop, taken, holding): (Bool, BGPTransport?, Bool) = condition.withLock {
                while !stopped && incoming == nil && Date() < deadline { _ = condition.wait(until: deadline) }
                let taken = incoming
                incoming = nil
                return (stopped, taken, holdDownUntil.map { Date() < $0 } ?? false)
            }
            if stop {
                taken?.shutdown()
                return (true, nil)
            }
            guard let taken else { return (false, nil) }
            if !holding { return (false, taken) }
            reject(taken, reason: "the session is down for a while after the peer sent too many prefixes")
        }
    }

    private func run() {
        var retryDelay = 0.0
        while true {
            // Idle: wait out the connect-retry time (an incoming connection ends the wait) or a hold-down.
            let holdDown = condition.withLock { holdDownUntil } ?? .distantPast
            let (stop, next) = waitForIncoming(until: max(Date(timeIntervalSinceNow: retryDelay), holdDown))
            if stop { return }
            var connection = next
            var accepted = connection != nil
            if connection == nil {
                if peer.passive {
                    set(.active)
                    let (stop, next) = waitForIncoming(until: Date(timeIntervalSinceNow: local.connectRetry))
                    if stop { return }
                    connection = next
                    accepted = true
                } else {
                    set(.connect)
                    do {
                        connection = try BGPTransport.connect(
                            to: peer.address, port: peer.port, from: peer.localAddress, password: peer.password,
                            timeout: max(1, local.connectRetry), ttl: peer.ttl)
                    } catch {
                        // Meanwhile the peer may have connected to us.
                        connection = condition.withLock {
                            defer { incoming = nil }
                            return incoming
                        }
                        accepted = connection != nil
                        if connection == nil {
                            set(.active)
                            failed("\(error)")
                        }
                    }
                }
            }
            retryDelay = local.connectRetry
            guard let connection else { continue }
            let (reason, graceful) = session(connection, accepted: accepted)
            let (wasEstablished, failedIn): (Bool, State) = condition.withLock {
                let was = state
                state = .idle
                transport = nil
                establishedAt = nil
                return (was == .established, was)
            }
            if wasEstablished {
                condition.withLock {
                    lastError = reason
                    lastErrorAt = Date()
                    lastLoggedError = nil
                }
                delegate?.sessionEnded(self, reason: reason, graceful: graceful)
            } else if !condition.withLock({ stopped }) {
                failed("session failed in \(failedIn.rawValue): \(reason)")
            }
            if condition.withLock({ stopped }) { return }
        }
    }

    /// One connection from OPEN to its end; returns why it ended and whether the peer may be restarting.
    /// `accepted`: the peer opened it (the listener handed it over), rather than us.
    private func session(_ first: BGPTransport, accepted: Bool) -> (String, Bool) {
        var connection = first
        condition.withLock {
            transport = connection
            localAddress = connection.local
            options = BGPMessage.Options()
        }
        var open = BGPOpen(
            asn: local.asn, holdTime: local.holdTime, identifier: local.routerID,
            capabilities: [
                .multiprotocol(afi: AFI.ipv4.rawValue, safi: SAFI.unicast.rawValue),
                .multiprotocol(afi: AFI.ipv6.rawValue, safi: SAFI.unicast.rawValue),
                .routeRefresh, .fourOctetAS(local.asn),
            ])
        if let gr = local.gracefulRestart { open.capabilities.append(.gracefulRestart(gr)) }
        func fail(_ error: BGPError) -> (String, Bool) {
            notify(connection, BGPNotification(error), reason: error.reason)
            connection.shutdown()
            if error.code == 6 && error.subcode == 1 {
                condition.withLock { holdDownUntil = Date(timeIntervalSinceNow: local.maxPrefixHoldDown) }
                log(
                    "bgp: peer \(peer.address): no session for \(Int(local.maxPrefixHoldDown)) s "
                        + "after too many prefixes")
            }
            return ("sent \(error)", false)
        }
        do {
            try connection.send(.open(open), options: options)
        } catch {
            return ("\(error)", false)
        }
        set(.openSent)
        // RFC 4271 §8.2.2: a large hold time until the peer's OPEN sets the real one.
        var holdTime: Double = 240
        var holdDeadline = Date(timeIntervalSinceNow: holdTime)
        var keepaliveDue = Date.distantFuture
        var peerOpen: BGPOpen?
        while true {
            // Stop, or a collision with a connection the listener accepted meanwhile.
            let (stop, other) = condition.withLock { () -> (Bool, BGPTransport?) in
                defer { incoming = nil }
                return (stopped, incoming)
            }
            if stop { return ("stopped", false) }
            if let other {
                let current = condition.withLock { state }
                let remoteID = peerOpen?.identifier ?? UInt32(truncatingIfNeeded: peer.address.low)
                if current == .openSent && accepted {
                    // Two connections the peer opened, no OPEN on the first yet: the peer gave up on it (or it
                    // never was a BGP speaker's); the newer one goes on. Our OPEN is sent again on it below.
                    reject(connection, reason: "a newer connection from the peer replaces it before its OPEN")
                    connection = other
                    condition.withLock {
                        transport = other
                        localAddress = other.local
                    }
                    do { try other.send(.open(open), options: options) } catch { return ("\(error)", false) }
                    holdDeadline = Date(timeIntervalSinceNow: holdTime)
                    continue
                }
                // Keep the connection opened by the speaker with the higher BGP identifier (§6.8).
                if current == .established || local.routerID > remoteID {
                    notify(other, BGPNotification(code: 6, subcode: 7), reason: "connection collision: ours wins")
                    other.shutdown()
                } else {
                    notify(
                        connection, BGPNotification(code: 6, subcode: 7),
                        reason: "connection collision: the peer's wins")
                    connection.shutdown()
                    condition.withLock { incoming = other }
                    return ("connection collision: the peer's connection won", false)
                }
            }
            let now = Date()
            // Past the hold time, a message already waiting still counts: a stall of ours (a busy speaker) is
            // not the peer's silence.
            let holdExpired = now >= holdDeadline
            if now >= keepaliveDue {
                do { try connection.send(.keepalive, options: options) } catch {
                    return ("\(error)", peerOpen?.gracefulRestart != nil)
                }
                keepaliveDue = now.addingTimeInterval(holdTime / 3)
            }
            let wait =
                holdExpired
                ? 0
                : min(holdDeadline, keepaliveDue, now.addingTimeInterval(0.5)).timeIntervalSince(now)
            let message: BGPMessage?
            do {
                message = try connection.receive(timeout: wait, options: options)
            } catch let error as BGPError {
                return fail(error)
            } catch {
                // The TCP connection ended without a NOTIFICATION: a restarting peer keeps its routes.
                return (
                    "\(error)",
                    condition.withLock { state == .established } && peerOpen?.gracefulRestart != nil
                        && local.gracefulRestart != nil
                )
            }
            guard let message else {
                if holdExpired { return fail(BGPError(4, 0, "no message from the peer for \(Int(holdTime)) s")) }
                continue
            }
            if holdTime > 0 { holdDeadline = Date(timeIntervalSinceNow: holdTime) }
            let current = condition.withLock { state }
            switch (current, message) {
            case (_, .notification(let n)):
                connection.shutdown()
                log("bgp: peer \(peer.address): received NOTIFICATION \(n)")
                condition.withLock {
                    lastNotification = NotificationRecord(sent: false, notification: n, reason: nil, at: Date())
                    counters.notificationsReceived += 1
                }
                return ("received \(n)", false)
            case (.openSent, .open(let theirs)):
                guard theirs.asn == peer.asn else {
                    var data = WireWriter()
                    data.u16(theirs.myAS)
                    return fail(
                        BGPError(2, 2, data: data.bytes, "the peer says AS \(theirs.asn), configured \(peer.asn)"))
                }
                guard theirs.identifier != local.routerID || peer.asn != local.asn else {
                    return fail(BGPError(2, 3, "the peer uses our BGP identifier"))
                }
                peerOpen = theirs
                let negotiated = min(local.holdTime, theirs.holdTime)
                holdTime = Double(negotiated)
                holdDeadline = negotiated > 0 ? Date(timeIntervalSinceNow: holdTime) : .distantFuture
                keepaliveDue = negotiated > 0 ? Date() : .distantFuture
                condition.withLock {
                    self.peerOpen = theirs
                    negotiatedHoldTime = negotiated
                    options = BGPMessage.Options(fourOctetAS: theirs.supportsFourOctetAS)
                    state = .openConfirm
                }
                if negotiated == 0 { try? connection.send(.keepalive, options: options) }
            case (.openConfirm, .keepalive):
                condition.withLock {
                    state = .established
                    establishedAt = Date()
                    lastError = nil
                    counters.established += 1
                }
                delegate?.sessionEstablished(self)
            case (.established, .keepalive):
                break
            case (.established, .update(let update)):
                condition.withLock { counters.updatesReceived += 1 }
                if let error = delegate?.session(self, received: update) { return fail(error) }
            case (.established, .routeRefresh(let refresh)):
                delegate?.session(self, refreshRequested: refresh)
            case (.openSent, _):
                return fail(BGPError(5, 1, "\(message.typeName) in OpenSent"))
            case (.openConfirm, _):
                return fail(BGPError(5, 2, "\(message.typeName) in OpenConfirm"))
            default:
                return fail(BGPError(5, 3, "\(message.typeName) in Established"))
            }
        }
    }
}
