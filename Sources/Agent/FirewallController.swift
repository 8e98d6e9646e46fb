import Foundation
import Kernel
import KubeAPI
import KubeModel
import Planning

/// Keeps the node's firewall equal to what the policies say. Informer events only mark the state
/// dirty; the worker (`SyncWorker`) coalesces them into syncs (plan → ipsets → iptables → stale sets),
/// and a periodic full sync repairs drift. A sync that fails leaves the previous rules in place.
final class FirewallController: @unchecked Sendable {
    private let cluster: any ClusterState
    private let backends: KernelBackends
    private let node: String
    private let period: Double
    private let defaultDeny: Bool
    private let log: Log
    private let stateDir: String?
    private let worker: SyncWorker
    /// Guards what the informers' threads and the worker share.
    private let lock = NSLock()
    private(set) var syncCount = 0

    init(
        cluster: any ClusterState, node: String, period: Double, defaultDeny: Bool, stateDir: String?, log: Log,
        backends: KernelBackends = .real, retry: Double = 10
    ) {
        self.defaultDeny = defaultDeny
        self.cluster = cluster
        self.backends = backends
        self.node = node
        self.period = period
        self.stateDir = stateDir
        self.log = log
        worker = SyncWorker(name: "firewall", period: period, retry: retry)
    }

    /// Informer events land here (on the reflectors' threads).
    func handle(_ event: InformerEvent) {
        switch event {
        case .rejected(let rejection):
            // An object the API serves but we cannot read (a malformed policy) is named in the status;
            // its last good version, if any, stays in force (the informer keeps it).
            log.warn("api: rejected: \(rejection)")
        case .problem(let message):
            log.warn("api: \(message)")
        case .synced: markDirty()
        case .added(let o), .deleted(let o):
            if note([o]) { worker.markDirty() }
        case .updated(let old, let new):
            if note([old, new]) { worker.markDirty() }
        }
    }

    /// Records what an event changes for the next sync; whether the firewall reads it (pods, namespaces,
    /// policies; nodes and services change nothing here).
    private func note(_ objects: [KubeObject]) -> Bool {
        guard let first = objects.first, ["Pod", "Namespace", "NetworkPolicy"].contains(first.kind) else {
            return false
        }
        lock.withLock { for object in objects { pending.note(object, node: node) } }
        return true
    }

    /// What the events since the last sync changed (under `lock`): an event sync applies pods of other nodes and
    /// namespaces to the sets alone (`FirewallIncremental`), anything else is planned in full.
    private var pending = FirewallIncremental.Changes()

    /// Something changed, not said what: the next sync plans in full.
    func markDirty() {
        lock.withLock { pending.needsFullPlan = true }
        worker.markDirty()
    }

    func stop() { worker.stop() }

    /// Stops; a running sync may end until `deadline`. Whether it did.
    func stop(waitingUntil deadline: Date) -> Bool { worker.stop(waitingUntil: deadline) }

    /// What its syncs did (health, metrics).
    var monitor: SyncMonitor { worker.monitor }

    /// What the last successful sync put in the kernel, for the metrics.
    struct Counts: Sendable {
        var chains = 0
        var rules = 0
        var sets = 0
        var setEntries = 0
        var protectedPods = 0
    }

    var counts: Counts { lock.withLock { lastCounts } }
    private var lastCounts = Counts()

    /// What the worker thread alone touches: the address families, and the plans last applied.
    private var families: [IPAddress.Family] = [.ipv4]
    private var lastApplied: [FirewallPlan]?

    /// Events lead to incremental syncs against what this process last applied; every `period` (and
    /// after any failure) a full sync reads the kernel back and repairs whatever drifted.
    func start() {
        worker.start(
            ready: { [cluster] in cluster.hasSynced },
            setUp: { [self] in
                // IPv6 needs the kernel's ip6_tables; without it the node is IPv4-only for the firewall.
                do {
                    _ = try backends.iptables("filter", .ipv6)
                    families.append(.ipv6)
                } catch {
                    log.warn("firewall: \(error): IPv6 pods are not protected on this node")
                }
            }
        ) { [self] full in
            // Taken before the state is read: every event taken is in it (the informers store, then tell).
            let changes = lock.withLock {
                defer { pending = FirewallIncremental.Changes() }
                return pending
            }
            lastApplied = sync(families: families, previous: full ? nil : lastApplied, changes: full ? nil : changes)
            return lastApplied != nil
        }
    }

    /// One plan per family; all sets in one pass, then one commit per family's table, then the sets
    /// no plan uses. Returns the plans now in the kernel, nil when the sync failed (the next is full). With
    /// `changes` that only move set members, the previous plans' sets are updated instead of planning anew.
    private func sync(
        families: [IPAddress.Family], previous: [FirewallPlan]?, changes: FirewallIncremental.Changes?
    ) -> [FirewallPlan]? {
        let clock = ContinuousClock()
        let start = clock.now
        // Read before the snapshot: every change of each resource up to its version is in it.
        let versionMap = cluster.resourceVersions
        let versions = versionMap.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        let engine = PolicyEngine(cluster.snapshot(), defaultDeny: defaultDeny)
        let incremental = previous.flatMap { previous in
            changes.flatMap { FirewallIncremental.update(previous, engine: engine, changes: $0) }
        }
        let plans = incremental ?? families.map { FirewallPlanner(engine: engine).plan(node: node, family: $0) }
        let allSets = plans.flatMap(\.sets)
        let planned = clock.now
        do {
            let session = try backends.ipsets()
            let sets = try IPSetSync(backend: session).apply(allSets, previous: previous?.flatMap(\.sets))
            let setsDone = clock.now
            var committed: [String] = []
            var rulesWritten = 0
            for plan in plans {
                let report = try IPTablesSync.apply(
                    plan, previous: previous?.first { $0.family == plan.family }, open: backends.iptables)
                if report.committed { committed.append(plan.family.rawValue) }
                rulesWritten += report.rulesWritten
            }
            let rulesDone = clock.now
            let removed = try IPSetSync(backend: session).removeStale(
                keeping: Set(allSets.map(\.name)), among: sets.before)
            let end = clock.now
            let monitor = worker.monitor
            monitor.phase("plan", planned - start)
            monitor.phase("ipsets", setsDone - planned)
            monitor.phase("iptables", rulesDone - setsDone)
            monitor.phase("stale-sets", end - rulesDone)
            monitor.kernelChanged(
                sets.created.count + sets.swapped.count + sets.updated.count + committed.count + removed.count)
            let chainCount = plans.reduce(0) { $0 + $1.chains.count }
            let ruleCount = plans.reduce(0) { $0 + $1.chains.reduce(0) { $0 + $1.rules.count } }
            let pods = Set(
                plans.flatMap(\.chains).compactMap { chain -> String? in
                    if case .pod(let key) = chain.subject { return key }
                    return nil
                })
            let count = lock.withLock {
                syncCount += 1
                lastCounts = Counts(
                    chains: chainCount, rules: ruleCount, sets: allSets.count,
                    setEntries: allSets.reduce(0) { $0 + $1.members.count }, protectedPods: pods.count)
                return syncCount
            }
            // The status first: whoever waits for the log line may read the status at once.
            writeStatus(plans: plans, count: count, versions: versionMap, full: previous == nil)
            log.info(
                "firewall: sync \(count)\(previous == nil ? " (full)" : "") at versions \(versions) "
                    + "done in \(ms(end - start)): plan \(ms(planned - start))"
                    + (incremental == nil ? " " : " (set members only) ")
                    + "(\(chainCount) chains, \(ruleCount) rules, \(allSets.count) sets), "
                    + "ipsets \(ms(setsDone - planned)) (\(sets.created.count) created, "
                    + "\(sets.swapped.count) swapped, \(sets.updated.count) updated in place, "
                    + "\(sets.unchanged) unchanged), "
                    + "iptables \(ms(rulesDone - setsDone)) ("
                    + (committed.isEmpty
                        ? "unchanged"
                        : "committed \(committed.joined(separator: ", ")), \(rulesWritten) rules written")
                    + "), stale sets \(ms(end - rulesDone)) (\(removed.count) removed)"
            )
            return plans
        } catch {
            worker.monitor.failed("\(error)")
            log.error("firewall: sync failed, the previous rules stay in place; the next sync is a full one: \(error)")
            return nil
        }
    }

    private func ms(_ d: Duration) -> String {
        String(format: "%.1f ms", Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
    }

    /// What `krctl policy check` reads: when the firewall last synced, and which pods it protects.
    private func writeStatus(plans: [FirewallPlan], count: Int, versions: [String: String], full: Bool) {
        guard let stateDir else { return }
        var pods: [String: String] = [:]
        for chain in plans.flatMap(\.chains) {
            if case .pod(let key) = chain.subject { pods[key] = chain.name }
        }
        do {
            var status = FirewallStatus(
                node: node, syncs: count, lastSync: Date(), podChains: pods, defaultDeny: defaultDeny)
            let rejected = cluster.rejectedObjects
            status.rejectedObjects = rejected.count
            status.rejected = rejected.map(\.object)
            status.resourceVersions = versions
            status.lastSyncFull = full
            try status.write(stateDir: stateDir)
        } catch {
            log.warn("firewall: cannot write the status file in \(stateDir): \(error)")
        }
    }
}
