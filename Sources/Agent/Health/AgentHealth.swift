import Foundation
import Synchronization

/// The agent's liveness and readiness, computed from its controllers' sync monitors, the informers and the
/// stop path, as `/livez` and `/readyz` answer them.
///
/// - Live unless a controller is wedged: a sync running longer than the stall limit (the larger of
///   `minimumStall` and 3 × the longest sync seen), or a worker thread gone. API loss and failing syncs never
///   fail liveness: a restart would not fix them and would take the node's networking down meanwhile.
/// - Ready once the informers have synced and every enabled controller has finished one full sync (and
///   every latching check passed); from then on it stays ready until a controller's last 3 syncs failed, a
///   persistent check fails (a node problem an enabled controller needs fixed), or the agent is stopping.
final class AgentHealth: Sendable {
    /// One line of a verbose answer.
    struct Check: Sendable, Codable, Equatable {
        var name: String
        var ok: Bool
        var message: String
    }

    struct Report: Sendable, Codable, Equatable {
        var ok: Bool
        var checks: [Check]
        /// The reasons of the failed checks.
        var failures: [Check] { checks.filter { !$0.ok } }
    }

    /// A check beyond the controllers': `latching` ones only gate the first readiness (the BGP speaker
    /// listening); the others count for as long as they fail (node problems found by the doctor checks).
    struct ExtraCheck: Sendable {
        var name: String
        var latching: Bool
        var evaluate: @Sendable () -> (ok: Bool, message: String)
    }

    /// Consecutive failed syncs that make a ready agent unready.
    static let failuresToUnready = 3

    private let monitors: [SyncMonitor]
    private let informersSynced: @Sendable () -> Bool
    private let minimumStall: Double
    private let extras = Mutex<[ExtraCheck]>([])
    private let state = Mutex<(latched: Bool, stopping: Bool)>((false, false))

    init(monitors: [SyncMonitor], minimumStall: Double = 600, informersSynced: @escaping @Sendable () -> Bool) {
        self.monitors = monitors
        self.minimumStall = minimumStall
        self.informersSynced = informersSynced
    }

    func add(_ check: ExtraCheck) { extras.withLock { $0.append(check) } }

    /// SIGTERM: readiness fails from now on.
    func beginShutdown() { state.withLock { $0.stopping = true } }

    var isStopping: Bool { state.withLock { $0.stopping } }

    func liveness(now: Date = Date()) -> Report {
        let checks = monitors.map {
            Self.liveness(of: $0.controller, $0.snapshot, now: now, minimumStall: minimumStall)
        }
        return Report(ok: checks.allSatisfy(\.ok), checks: checks)
    }

    func readiness(now: Date = Date()) -> Report {
        let (latched, stopping) = state.withLock { ($0.latched, $0.stopping) }
        var checks: [Check] = []
        checks.append(
            Check(name: "shutdown", ok: !stopping, message: stopping ? "the agent is shutting down" : "ok"))
        let synced = latched || informersSynced()
        checks.append(
            Check(
                name: "informers", ok: synced,
                message: synced ? "ok" : "waiting for the API server's objects (the first list of each resource)"))
        for monitor in monitors {
            checks.append(Self.readiness(of: monitor.controller, monitor.snapshot, latched: latched))
        }
        for extra in extras.withLock({ $0 }) where !(latched && extra.latching) {
            let (ok, message) = extra.evaluate()
            checks.append(Check(name: extra.name, ok: ok, message: message))
        }
        let ok = checks.allSatisfy(\.ok)
        if ok && !latched { state.withLock { $0.latched = true } }
        return Report(ok: ok, checks: checks)
    }

    /// A controller is live unless its worker thread is gone or one sync runs past the stall limit.
    static func liveness(of name: String, _ s: SyncMonitor.State, now: Date, minimumStall: Double) -> Check {
        if s.workerGone { return Check(name: name, ok: false, message: "its worker thread is gone") }
        let limit = max(minimumStall, 3 * s.longest)
        if let since = s.runningSince {
            let running = now.timeIntervalSince(since)
            if running > limit {
                return Check(
                    name: name, ok: false,
                    message: "a sync has been running for \(Int(running)) s, past the stall limit of \(Int(limit)) s")
            }
        }
        return Check(name: name, ok: true, message: "ok")
    }

    /// Before the first readiness a controller needs one successful full sync; after it, only 3 failed syncs
    /// in a row make it unready.
    static func readiness(of name: String, _ s: SyncMonitor.State, latched: Bool) -> Check {
        if s.consecutiveFailures >= failuresToUnready {
            return Check(
                name: name, ok: false,
                message: "the last \(s.consecutiveFailures) syncs failed: \(s.lastError ?? "unknown error")")
        }
        if !latched && s.fullSuccesses == 0 {
            let why =
                s.lastError.map { "last sync failed: \($0)" }
                ?? (s.runningSince != nil ? "the first full sync is running" : "waiting for the first full sync")
            return Check(name: name, ok: false, message: why)
        }
        return Check(name: name, ok: true, message: "ok")
    }
}
