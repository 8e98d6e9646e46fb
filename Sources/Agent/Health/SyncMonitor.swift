import Foundation
import Synchronization

/// What one controller's syncs did, for the health checks and the metrics. The worker writes it around
/// each sync and the controller adds its phases and failure reason; probes and scrapes read it under its
/// own lock, so a long sync never blocks them.
final class SyncMonitor: Sendable {
    /// Why a sync ran.
    enum Trigger: String, Sendable {
        /// The first sync after start.
        case initial
        /// Informer events marked the controller dirty.
        case event
        /// The periodic full sync found nothing pending: whatever it changes had drifted.
        case periodic
        /// The sync after a failed one.
        case retry
    }

    /// One finished sync.
    struct Sync: Sendable {
        var trigger: Trigger
        var full: Bool
        var started: Date
        var seconds: Double
        var succeeded: Bool
        var phases: [Phase]
        var error: String?
        /// From the oldest event it took up to the kernel changed (event syncs that succeeded).
        var eventLatency: Double?
        /// Kernel changes it made (sets, tables, services, routes), as the controller counted them.
        var kernelChanges: Int
    }

    struct Phase: Sendable, Equatable {
        var name: String
        var seconds: Double
    }

    struct State: Sendable {
        /// When the running sync started, if one runs.
        var runningSince: Date?
        var runningFull = false
        /// The longest sync seen, in seconds.
        var longest: Double = 0
        var last: Sync?
        var lastSuccess: Date?
        var fullSuccesses = 0
        var consecutiveFailures = 0
        var lastError: String?
        /// The worker thread ended without being stopped.
        var workerGone = false
        var stopped = false
        var driftRepairs = 0
    }

    let controller: String
    private let state = Mutex(State())
    /// The running sync's own notes (the worker thread's).
    private let current = Mutex<(phases: [Phase], error: String?, changes: Int)>(([], nil, 0))
    private let observers = Mutex<[@Sendable (Sync) -> Void]>([])

    init(controller: String) { self.controller = controller }

    var snapshot: State { state.withLock { $0 } }

    /// `observer` is told of every finished sync (on the worker's thread).
    func observe(_ observer: @escaping @Sendable (Sync) -> Void) { observers.withLock { $0.append(observer) } }

    // MARK: The controller's notes during a sync

    func phase(_ name: String, _ duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        current.withLock { $0.phases.append(Phase(name: name, seconds: seconds)) }
    }

    func failed(_ reason: String) { current.withLock { $0.error = reason } }

    func kernelChanged(_ count: Int) { current.withLock { $0.changes += count } }

    // MARK: The worker's

    func begin(full: Bool, at start: Date) {
        current.withLock { $0 = ([], nil, 0) }
        state.withLock {
            $0.runningSince = start
            $0.runningFull = full
        }
    }

    func end(
        trigger: Trigger, full: Bool, started: Date, succeeded: Bool, pendingSince: Date?, at end: Date = Date()
    ) {
        let notes = current.withLock { $0 }
        let seconds = end.timeIntervalSince(started)
        let sync = Sync(
            trigger: trigger, full: full, started: started, seconds: seconds, succeeded: succeeded,
            phases: notes.phases, error: succeeded ? nil : (notes.error ?? "the sync failed"),
            eventLatency: succeeded ? pendingSince.map { end.timeIntervalSince($0) } : nil,
            kernelChanges: notes.changes)
        state.withLock { s in
            s.runningSince = nil
            s.longest = max(s.longest, seconds)
            s.last = sync
            if succeeded {
                s.lastSuccess = end
                s.consecutiveFailures = 0
                s.lastError = nil
                if full { s.fullSuccesses += 1 }
                if trigger == .periodic && notes.changes > 0 { s.driftRepairs += 1 }
            } else {
                s.consecutiveFailures += 1
                s.lastError = sync.error
            }
        }
        for observer in observers.withLock({ $0 }) { observer(sync) }
    }

    func workerEnded(stopped: Bool) {
        state.withLock {
            if stopped { $0.stopped = true } else { $0.workerGone = true }
        }
    }
}
