import Foundation
import Kernel

/// The worker thread of a controller. Informer events only mark it dirty; it coalesces them into
/// syncs. A sync is full (the kernel read back) the first time, every `period`, and after a failure,
/// which is retried after `retry` seconds; the others are event syncs. Every sync is recorded in the
/// worker's `monitor` (health and metrics).
final class SyncWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var dirty = true
    /// When the oldest change not yet synced was noted (for the event → kernel latency).
    private var dirtySince: Date?
    private var stopped = false
    private var running = false
    private var exited = false
    private let period: Double
    private let retry: Double
    let monitor: SyncMonitor

    init(name: String, period: Double, retry: Double = 10) {
        self.period = period
        self.retry = retry
        monitor = SyncMonitor(controller: name)
    }

    func markDirty() {
        condition.withLock {
            dirty = true
            if dirtySince == nil { dirtySince = Date() }
            condition.signal()
        }
    }

    /// No new sync starts; a running one goes on to its end.
    func stop() {
        condition.withLock {
            stopped = true
            condition.broadcast()
        }
    }

    /// Stops, then waits until the running sync (if any) has ended, at most until `deadline`. Whether it
    /// ended in time.
    @discardableResult
    func stop(waitingUntil deadline: Date) -> Bool {
        stop()
        return condition.withLock {
            while running {
                if !condition.wait(until: deadline) { return !running }
            }
            return true
        }
    }

    /// `ready` gates every sync (the informers have synced); `body(full)` syncs and returns whether
    /// it succeeded.
    func start(
        ready: @escaping @Sendable () -> Bool, setUp: @escaping @Sendable () -> Void = {},
        body: @escaping @Sendable (_ full: Bool) -> Bool
    ) {
        let thread = Thread { [self] in
            defer {
                let wasStopped = condition.withLock {
                    exited = true
                    running = false
                    condition.broadcast()
                    return stopped
                }
                monitor.workerEnded(stopped: wasStopped)
            }
            setUp()
            var nextFullSync = Date()
            var lastSucceeded = false
            var first = true
            while true {
                let (proceed, woken, pendingSince): (Bool, Bool, Date?) = condition.withLock {
                    var woken = dirty
                    while !dirty && !stopped {
                        if !condition.wait(until: nextFullSync) { break }
                        woken = dirty
                    }
                    dirty = false
                    let since = dirtySince
                    dirtySince = nil
                    if !stopped { running = true }
                    return (!stopped, woken, since)
                }
                guard proceed else { return }
                guard ready() else {
                    condition.withLock {
                        running = false
                        condition.broadcast()
                    }
                    continue
                }
                let full = !lastSucceeded || Date() >= nextFullSync
                let trigger: SyncMonitor.Trigger =
                    first ? .initial : !lastSucceeded ? .retry : woken ? .event : .periodic
                let started = Date()
                monitor.begin(full: full, at: started)
                lastSucceeded = body(full)
                monitor.end(
                    trigger: trigger, full: full, started: started, succeeded: lastSucceeded,
                    pendingSince: trigger == .event ? pendingSince : nil)
                first = false
                condition.withLock {
                    running = false
                    condition.broadcast()
                }
                if !lastSucceeded {
                    nextFullSync = Date(timeIntervalSinceNow: retry)
                } else if full {
                    nextFullSync = Date(timeIntervalSinceNow: period)
                }
                // A full sync rebuilds every table from scratch (and the first follows the informers' lists): the
                // memory it freed goes back to the system instead of staying in malloc's arenas. About 10 MiB of
                // the agent's resident memory at 5,000 pods; a trim takes a few milliseconds.
                if full { Memory.trim() }
            }
        }
        thread.name = monitor.controller
        thread.start()
    }
}
