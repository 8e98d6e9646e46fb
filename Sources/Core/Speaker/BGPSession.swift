import Foundation
import Kernel
import KubeModel
import Planning

/// What a session tells the speaker, on the session's thread.
protocol BGPSessionDelegate: AnyObject, Sendable {
    func sessionEstablished(_ session: BGPSession)
    func session(_ session: BGPSession, received update: BGPUpdate)
    func session(_ session: BGPSession, refreshRequested refresh: BGPRouteRefresh)
    /// `graceful`: the peer may be restarting (no NOTIFICATION seen, graceful restart negotiated).
    func sessionEnded(_ session: BGPSession, reason: String, graceful: Bool)
}

/// One peer's session: the finite state machine of RFC 4271 §8 on a thread of its own, with the
/// connect-retry, hold and keepalive timers, collision detection (§6.8) for a connection the
/// listener hands over, and reconnection after any error.
final class BGPSession: @unchecked Sendable {
    enum State: String, Sendable { case idle = "Idle", connect = "Connect", active = "Active", openSent = "OpenSent"
        case openConfirm = "OpenConfirm", established = "Established" }

    struct Local: Sendable {
        var asn: UInt32
        var routerID: UInt32
        var holdTime: UInt16
        var connectRetry: Double
        var gracefulRestart: BGPCapability.GracefulRestart?
    }

    let peer: BGPPeerConfig
    let local: Local
    private weak var delegate: (any BGPSessionDelegate)?
    private let condition = NSCondition()
    private var stopped = false
    private var incoming: [BGPTransport] = []

    // State for status reports, under `condition`.
    private(set) var state: State = .idle
    private(set) var establishedAt: Date?
    private(set) var lastError: String?
    private(set) var peerOpen: BGPOpen?
    private(set) var negotiatedHoldTime: UInt16 = 0
    private(set) var options = BGPMessage.Options()
    private(set) var localAddress: IPAddress?
    private var transport: BGPTransport?

    init(peer: BGPPeerConfig, local: Local, delegate: any BGPSessionDelegate) {
        self.peer = peer
        self.local = local
        self.delegate = delegate
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "bgp \(peer.address)"
        thread.start()
    }

    /// Ends the session with a Cease (administrative shutdown) and stops reconnecting.
    func stop() {
        let current: BGPTransport? = condition.withLock {
            stopped = true
            condition.broadcast()
            return transport
        }
        if let current {
            try? current.send(.notification(BGPNotification(code: 6, subcode: 2)), options: options)
            current.shutdown()
        }
    }

    /// A connection the listener accepted from this peer.
    func accept(_ connection: BGPTransport) {
        condition.withLock {
            incoming.append(connection)
            condition.broadcast()
        }
    }

    /// Sends a message on the established session (from the speaker's thread).
    func send(_ message: BGPMessage) {
        let (current, opts, ready) = condition.withLock { (transport, options, state == .established) }
        guard ready, let current else { return }
        do { try current.send(message, options: opts) } catch { current.shutdown() }
    }

    var isEstablished: Bool { condition.withLock { state == .established } }

    struct Snapshot: Sendable {
        var state: State
        var establishedAt: Date?
        var lastError: String?
        var peerOpen: BGPOpen?
        var holdTime: UInt16
        var localAddress: IPAddress?
    }

    var snapshot: Snapshot {
        condition.withLock { Snapshot(state: state, establishedAt: establishedAt, lastError: lastError, peerOpen: peerOpen,
                                      holdTime: negotiatedHoldTime, localAddress: localAddress) }
    }

    private func set(_ newState: State) { condition.withLock { state = newState } }

    // MARK: The loop

    private func run() {
        var retryDelay = 0.0
        while true {
            // Idle: wait out the connect-retry time (an incoming connection ends the wait).
            let next: BGPTransport?? = condition.withLock {
                let deadline = Date(timeIntervalSinceNow: retryDelay)
                while !stopped && incoming.isEmpty && Date() < deadline { _ = condition.wait(until: deadline) }
                if stopped { return .some(nil) }
                return incoming.isEmpty ? nil : .some(incoming.removeFirst())
            }
            if case .some(nil) = next { return }
            var connection = next ?? nil
            if connection == nil {
                if peer.passive {
                    set(.active)
                    connection = condition.withLock {
                        let deadline = Date(timeIntervalSinceNow: local.connectRetry)
                        while !stopped && incoming.isEmpty && Date() < deadline { _ = condition.wait(until: deadline) }
                        return incoming.isEmpty ? nil : incoming.removeFirst()
                    }
                } else {
                    set(.connect)
                    do {
                        connection = try BGPTransport.connect(to: peer.address, port: peer.port, from: nil, password: peer.password,
                                                              timeout: max(1, local.connectRetry))
                    } catch {
                        // Meanwhile the peer may have connected to us.
                        connection = condition.withLock { incoming.isEmpty ? nil : incoming.removeFirst() }
                        if connection == nil { condition.withLock { lastError = "\(error)"; state = .active } }
                    }
                }
            }
            retryDelay = local.connectRetry
            guard let connection else { continue }
            let (reason, graceful) = session(connection)
            let wasEstablished: Bool = condition.withLock {
                let was = state == .established
                state = .idle
                transport = nil
                establishedAt = nil
                lastError = reason
                return was
            }
            if wasEstablished { delegate?.sessionEnded(self, reason: reason, graceful: graceful) }
            if condition.withLock({ stopped }) { return }
        }
    }

    /// One connection from OPEN to its end; returns why it ended and whether the peer may be restarting.
    private func session(_ connection: BGPTransport) -> (String, Bool) {
        condition.withLock { transport = connection; localAddress = connection.local; options = BGPMessage.Options() }
        var open = BGPOpen(asn: local.asn, holdTime: local.holdTime, identifier: local.routerID, capabilities: [
            .multiprotocol(afi: AFI.ipv4.rawValue, safi: SAFI.unicast.rawValue),
            .multiprotocol(afi: AFI.ipv6.rawValue, safi: SAFI.unicast.rawValue),
            .routeRefresh, .fourOctetAS(local.asn),
        ])
        if let gr = local.gracefulRestart { open.capabilities.append(.gracefulRestart(gr)) }
        func fail(_ error: BGPError) -> (String, Bool) {
            try? connection.send(.notification(BGPNotification(error)), options: options)
            connection.shutdown()
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
            let (stop, other) = condition.withLock { (stopped, incoming.isEmpty ? nil : incoming.removeFirst()) }
            if stop { return ("stopped", false) }
            if let other {
                let current = condition.withLock { state }
                let remoteID = peerOpen?.identifier ?? UInt32(truncatingIfNeeded: peer.address.low)
                // Keep the connection opened by the speaker with the higher BGP identifier (§6.8).
                if current == .established || local.routerID > remoteID {
                    try? other.send(.notification(BGPNotification(code: 6, subcode: 7)), options: options)
                    other.shutdown()
                } else {
                    try? connection.send(.notification(BGPNotification(code: 6, subcode: 7)), options: options)
                    connection.shutdown()
                    condition.withLock { incoming.insert(other, at: 0) }
                    return ("connection collision: the peer's connection won", false)
                }
            }
            let now = Date()
            if now >= holdDeadline {
                return fail(BGPError(4, 0, "no message from the peer for \(Int(holdTime)) s"))
            }
            if now >= keepaliveDue {
                do { try connection.send(.keepalive, options: options) } catch { return ("\(error)", peerOpen?.gracefulRestart != nil) }
                keepaliveDue = now.addingTimeInterval(holdTime / 3)
            }
            let wait = min(holdDeadline, keepaliveDue, now.addingTimeInterval(0.5)).timeIntervalSince(now)
            let message: BGPMessage?
            do {
                message = try connection.receive(timeout: wait, options: options)
            } catch let error as BGPError {
                return fail(error)
            } catch {
                // The TCP connection ended without a NOTIFICATION: a restarting peer keeps its routes.
                return ("\(error)", condition.withLock { state == .established } && peerOpen?.gracefulRestart != nil && local.gracefulRestart != nil)
            }
            guard let message else { continue }
            if holdTime > 0 { holdDeadline = Date(timeIntervalSinceNow: holdTime) }
            let current = condition.withLock { state }
            switch (current, message) {
            case (_, .notification(let n)):
                connection.shutdown()
                return ("received \(n)", false)
            case (.openSent, .open(let theirs)):
                guard theirs.asn == peer.asn else {
                    var data = WireWriter()
                    data.u16(theirs.myAS)
                    return fail(BGPError(2, 2, data: data.bytes, "the peer says AS \(theirs.asn), configured \(peer.asn)"))
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
                condition.withLock { state = .established; establishedAt = Date(); lastError = nil }
                delegate?.sessionEstablished(self)
            case (.established, .keepalive):
                break
            case (.established, .update(let update)):
                delegate?.session(self, received: update)
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
