import Foundation
import Kernel
import KubeAPI
import Planning
import Synchronization

/// The node checks `krctl doctor` runs, run by the agent: at start, once its controllers have done their
/// first full syncs (they set sysctls and load modules themselves), every 10 minutes, and every 30 s while
/// a check an enabled controller needs fails, so that a fix is seen promptly. A failing one keeps
/// `/readyz` red with its cause (`blockingReason`); all are exported as `kube_router_node_check`.
final class NodeChecks: Sendable {
    static let period = 600.0
    static let retryWhileFailing = 30.0

    private let client: KubeClient
    private let node: String
    private let enabled: Set<DoctorController>
    private let log: Log
    private let report = Mutex<DoctorReport?>(nil)
    private let wake = NSCondition()
    private let state = Mutex<(stopped: Bool, rerunAsked: Bool)>((false, false))

    init(client: KubeClient, node: String, enabled: Set<DoctorController>, log: Log) {
        self.client = client
        self.node = node
        self.enabled = enabled
        self.log = log
    }

    var latest: DoctorReport? { report.withLock { $0 } }

    /// Why readiness must wait, or nil: the failed checks an enabled controller needs.
    func readiness() -> (ok: Bool, message: String) {
        guard let report = latest else { return (true, "not run yet") }
        let blocking = report.blocking(enabled)
        if blocking.isEmpty { return (true, "ok") }
        let causes = blocking.map { "\($0.id): \($0.message)" + ($0.fix.map { " (fix: \($0))" } ?? "") }
        return (false, causes.joined(separator: "; "))
    }

    /// Runs the checks now and then on a thread of their own; `firstSyncsDone` tells when to run again
    /// after the controllers' first full syncs.
    func start(firstSyncsDone: @escaping @Sendable () -> Bool) {
        let thread = Thread { [self] in
            runOnce()
            var rerunAfterSyncs = true
            while !state.withLock({ $0.stopped }) {
                let failing = !(readiness().ok)
                let wait = rerunAfterSyncs ? 1 : failing ? Self.retryWhileFailing : Self.period
                wake.withLock { _ = wake.wait(until: Date(timeIntervalSinceNow: wait)) }
                if state.withLock({ $0.stopped }) { return }
                if rerunAfterSyncs {
                    guard firstSyncsDone() else { continue }
                    rerunAfterSyncs = false
                }
                runOnce()
            }
        }
        thread.name = "node checks"
        thread.start()
    }

    func stop() {
        state.withLock { $0.stopped = true }
        wake.withLock { wake.broadcast() }
    }

    func runOnce() {
        let api = client.doctorAPIFacts(node: node, requests: DoctorCatalog.accessRequests(for: enabled))
        let new = NodeDoctor.run(api: api, controllers: enabled)
        let old: DoctorReport? = report.withLock { current in
            defer { current = new }
            return current
        }
        // Log what changed: each check whose status differs from the last run (all problems the first time).
        for check in new.checks where check.status == .fail || check.status == .warn || old != nil {
            let before = old?[check.id]?.status
            guard before != check.status else { continue }
            let text =
                "node check \(check.id): \(check.status.rawValue): \(check.message)"
                + (check.fix.map { "; fix: \($0)" } ?? "")
            switch check.status {
            case .fail: log.error(text)
            case .warn: log.warn(text)
            case .ok, .skip: log.info(text)
            }
        }
    }
}
