import Foundation

/// The worker thread of a controller. Informer events only mark it dirty; it coalesces them into
/// syncs. A sync is full (the kernel read back) the first time, every `period`, and after a failure,
/// which is retried after `retry` seconds; the others are event syncs.
final class SyncWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var dirty = true
    private var stopped = false
    private let period: Double
    private let retry: Double

    init(period: Double, retry: Double = 10) {
        self.period = period
        self.retry = retry
    }

    func markDirty() {
        condition.withLock {
            dirty = true
            condition.signal()
        }
    }

    func stop() {
        condition.withLock {
            stopped = true
            condition.signal()
        }
    }

    /// `ready` gates every sync (the informers have synced); `body(full)` syncs and returns whether
    /// it succeeded.
    func start(
        name: String, ready: @escaping @Sendable () -> Bool, setUp: @escaping @Sendable () -> Void = {},
        body: @escaping @Sendable (_ full: Bool) -> Bool
    ) {
        let thread = Thread { [self] in
            setUp()
            var nextFullSync = Date()
            var lastSucceeded = false
            while true {
                let proceed: Bool = condition.withLock {
                    while !dirty && !stopped {
                        if !condition.wait(until: nextFullSync) { break }
                    }
                    dirty = false
                    return !stopped
                }
                guard proceed else { return }
                guard ready() else { continue }
                let full = !lastSucceeded || Date() >= nextFullSync
                lastSucceeded = body(full)
                if !lastSucceeded {
                    nextFullSync = Date(timeIntervalSinceNow: retry)
                } else if full {
                    nextFullSync = Date(timeIntervalSinceNow: period)
                }
            }
        }
        thread.name = name
        thread.start()
    }
}
