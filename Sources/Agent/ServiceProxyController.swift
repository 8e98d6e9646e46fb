import Foundation
import Kernel
import KubeAPI
import KubeModel
import Planning

/// Keeps the node's IPVS table, its VIPs on kube-dummy-if and the iptables/ipset pieces IPVS needs
/// equal to the cluster's Services and EndpointSlices. Events note the services they touch; the
/// worker (`SyncWorker`) coalesces them into syncs by difference of just those services; every
/// `period` (and after any failure) a full sync reads the kernel back and repairs drift. A bad
/// service never stops the others from syncing.
final class ServiceProxyController: @unchecked Sendable {
    struct Options {
        var period: Double
        var gracefulTermination: Bool
        var masqueradeAll: Bool
        var hairpinAll: Bool
        var stateDir: String
    }

    private let cluster: any ClusterState
    private let backends: KernelBackends
    private let node: String
    private let options: Options
    private let log: Log
    private let worker: SyncWorker
    /// Guards what the informers' threads and the worker share: the changed services.
    private let lock = NSLock()
    private var syncCount = 0
    private var lastProblems: [String] = []
    /// Services (`namespace/name`) whose Service or EndpointSlices changed since the last sync; an
    /// event sync replans only these. `replanAll`: this node's addresses may have changed, or a
    /// reflector relisted: plan everything.
    private var changedServices = Set<String>()
    private var replanAll = true
    /// The current plan of every service (the worker thread's own).
    private var parts: [String: ServicePlan]?
    /// `parts` assembled: an event updates it for the services it replanned.
    private var assembled: ServiceProxyPlan?

    init(cluster: any ClusterState, node: String, options: Options, log: Log, backends: KernelBackends = .real) {
        self.cluster = cluster
        self.backends = backends
        self.node = node
        self.options = options
        self.log = log
        worker = SyncWorker(name: "service-proxy", period: options.period)
    }

    func handle(_ event: InformerEvent) {
        switch event {
        case .synced:
            lock.withLock { replanAll = true }
            worker.markDirty()
        case .added(let o), .deleted(let o):
            note([o])
        case .updated(let old, let new):
            note([old, new])
        case .problem, .rejected: break  // the firewall controller (or the log) reports API problems
        }
    }

    /// Records which services a change touches (an update's old and new versions may name two), and
    /// wakes the worker once.
    private func note(_ objects: [KubeObject]) {
        var keys: [String] = []
        var all = false
        for object in objects {
            switch object {
            case .service(let service): keys.append(service.meta.key)
            case .endpointSlice(let slice) where !slice.serviceName.isEmpty:
                keys.append("\(slice.meta.namespace)/\(slice.serviceName)")
            case .node(let n) where n.name == node: all = true
            default: continue
            }
        }
        guard !keys.isEmpty || all else { return }
        lock.withLock {
            changedServices.formUnion(keys)
            if all { replanAll = true }
        }
        worker.markDirty()
    }

    /// What the worker thread alone touches between syncs.
    private var applied: Applied?

    func stop() { worker.stop() }

    /// Stops; a running sync may end until `deadline`. Whether it did.
    func stop(waitingUntil deadline: Date) -> Bool { worker.stop(waitingUntil: deadline) }

    /// What its syncs did (health, metrics).
    var monitor: SyncMonitor { worker.monitor }

    /// The virtual services the last sync applied, for the metrics.
    var appliedServices: [PlannedVirtualService] { lock.withLock { lastServices } }
    private var lastServices: [PlannedVirtualService] = []

    func start() {
        worker.start(
            ready: { [cluster] in cluster.hasSynced }, setUp: { [self] in prepareKernel() }
        ) { [self] full in
            applied = sync(previous: full ? nil : applied)
            return applied != nil
        }
    }

    /// What the last successful sync applied: the incremental path diffs against it.
    private struct Applied {
        var services: [PlannedVirtualService]
        var parts: [String: ServicePlan]
        var netfilter: [ServiceProxyNetfilter.Plan]
    }

    /// The kernel settings IPVS in NAT mode relies on.
    private func prepareKernel() {
        let settings: [(String, String, String)] = [
            ("net.ipv4.ip_forward", "1", "IPVS forwards to endpoints on other nodes"),
            ("net.ipv4.vs.conntrack", "1", "masquerading IPVS traffic needs conntrack entries"),
            ("net.ipv4.vs.expire_nodest_conn", "1", "connections to a removed endpoint end at once"),
            ("net.ipv4.vs.expire_quiescent_template", "1", "persistence does not pin clients to a drained endpoint"),
            ("net.ipv4.conf.all.arp_ignore", "1", "VIPs on kube-dummy-if are not announced over ARP"),
            ("net.ipv4.conf.all.arp_announce", "2", "VIPs on kube-dummy-if are not announced over ARP"),
        ]
        for (name, value, why) in settings {
            do { try backends.sysctl(name, value) } catch { log.warn("service proxy: \(error) (\(why))") }
        }
    }

    private func sync(previous: Applied?) -> Applied? {
        let clock = ContinuousClock()
        let start = clock.now
        // Read before the snapshot: every change of each resource up to its version is in it.
        let versionMap = cluster.resourceVersions
        let versions = versionMap.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        // Taken before the snapshot: a change noted after it is replanned again next time.
        let (changed, all) = lock.withLock {
            defer {
                changedServices = []
                replanAll = false
            }
            return (changedServices, replanAll)
        }
        let snapshot = cluster.snapshot()
        let nodeObject = snapshot.nodes[node]
        let nodeAddresses = ServiceProxyPlanner.nodeAddresses(nodeObject)
        let plannerOptions = ServiceProxyPlanner.Options(
            gracefulTermination: options.gracefulTermination, hairpinAll: options.hairpinAll)
        // An event replans only the services it touched; a full sync (or a node change) replans all.
        var replanned: Set<String>? = nil
        // Whether the event left what the netfilter plan reads as it was: then that plan (O(services) to make) and
        // its sync are skipped.
        var netfilterUnchanged = false
        let plan: ServiceProxyPlan
        if !all, previous != nil, var current = parts, var updated = assembled {
            assembled = nil  // `updated` is then the plan's only holder: it changes in place
            netfilterUnchanged = true
            for key in changed.sorted() {
                let old = current[key]
                if let service = snapshot.services[key] {
                    current[key] = ServiceProxyPlanner.plan(
                        service: service, slices: ServiceProxyPlanner.slices(of: key, in: snapshot),
                        node: node, nodeAddresses: nodeAddresses, options: plannerOptions)
                } else {
                    current.removeValue(forKey: key)
                }
                ServiceProxyPlanner.reassemble(
                    &updated, key: key, old: old, parts: current, nodeAddresses: nodeAddresses)
                if !ServiceProxyNetfilter.unchanged(from: old, to: current[key]) { netfilterUnchanged = false }
            }
            parts = current
            plan = updated
            replanned = changed
        } else {
            parts = ServiceProxyPlanner.parts(
                snapshot, node: node, nodeAddresses: nodeAddresses, options: plannerOptions)
            plan = ServiceProxyPlanner.assemble(parts ?? [:], nodeAddresses: nodeAddresses)
        }
        assembled = plan
        let currentParts = parts ?? [:]
        if plan.problems != lastProblems {
            for problem in plan.problems { log.warn("service proxy: \(problem)") }
            lastProblems = plan.problems
        }
        let netfilterOptions = ServiceProxyNetfilter.Options(
            masqueradeAll: options.masqueradeAll, podCIDRs: nodeObject?.podCIDRs ?? [])
        let netfilter: [ServiceProxyNetfilter.Plan]
        if netfilterUnchanged, let previous {
            netfilter = previous.netfilter
        } else {
            var families: [IPAddress.Family] = [.ipv4]
            if plan.services.contains(where: { $0.service.address.family == .ipv6 }) { families.append(.ipv6) }
            netfilter = families.map { ServiceProxyNetfilter.plan(plan, family: $0, options: netfilterOptions) }
        }
        let planned = clock.now
        do {
            let ipvs = try backends.ipvs()
            let interfaces = try backends.links()
            // VIPs first: a service answers as soon as IPVS has it.
            let dummy = try interfaces.ensureDummy(NodeNetwork.dummyInterface)
            let present = Set(try interfaces.addresses(index: dummy))
            let wanted = Set(plan.vips)
            for vip in wanted.subtracting(present).sorted() { try interfaces.add(vip, index: dummy) }
            // The netfilter pieces fail on their own: IPVS is still synced (the services work, only
            // masquerading or the VIP guard may lag), and the next sync is full.
            var chainsCommitted = 0
            var netfilterError: String?
            if !netfilterUnchanged {
                do {
                    let session = try backends.ipsets()
                    for family in netfilter {
                        let before = previous?.netfilter.first { $0.family == family.family }
                        _ = try IPSetSync(backend: session, owner: ServiceProxyNetfilter.setOwner).apply(
                            family.sets, previous: before?.sets)
                        if try IPTablesSync.apply(
                            family.filter, previous: before?.filter, owner: ServiceProxyNetfilter.filterOwner,
                            open: backends.iptables
                        ).committed {
                            chainsCommitted += 1
                        }
                        if try IPTablesSync.apply(
                            family.nat, previous: before?.nat, owner: ServiceProxyNetfilter.natOwner,
                            open: backends.iptables
                        ).committed {
                            chainsCommitted += 1
                        }
                    }
                } catch {
                    netfilterError = "iptables/ipset: \(error)"
                }
            }
            let netfilterDone = clock.now
            let report: IPVSSync.Report
            if let previous, let replanned {
                // Only the replanned services, against what was applied for them. (Two services that
                // claim one VIP and port are sorted out by the next full sync.)
                let now = replanned.sorted().flatMap { currentParts[$0]?.services ?? [] }
                let before = replanned.sorted().flatMap { previous.parts[$0]?.services ?? [] }
                report = try IPVSSync(backend: ipvs).apply(now, previous: before, owned: [])
            } else {
                // What earlier runs recorded as ours: only a full sync, which reads the kernel, needs it.
                let owned =
                    previous == nil
                    ? Set(ServiceProxyStatus.read(stateDir: options.stateDir)?.services.keys.map { $0 } ?? []) : []
                report = try IPVSSync(backend: ipvs).apply(plan.services, previous: previous?.services, owned: owned)
            }
            let ipvsDone = clock.now
            for vip in present.subtracting(wanted).sorted() { try interfaces.remove(vip, index: dummy) }
            let monitor = worker.monitor
            monitor.phase("plan", planned - start)
            monitor.phase("netfilter", netfilterDone - planned)
            monitor.phase("ipvs", ipvsDone - netfilterDone)
            monitor.kernelChanged(report.calls + chainsCommitted)
            lock.withLock { lastServices = plan.services }
            syncCount += 1
            let count = syncCount
            let errors = report.errors + (netfilterError.map { [$0] } ?? [])
            var owned: [String: ServiceProxyStatus.OwnedVirtualService] = [:]
            for p in plan.services { owned[p.service.key] = .init(service: p.origin, kind: p.kind) }
            // Keep owning what we failed to delete, so the next full sync retries it.
            for key in report.undeleted where owned[key] == nil { owned[key] = .init(service: nil, kind: nil) }
            let services = owned.mapValues { o in o.service.map { "\($0) (\(o.kind?.rawValue ?? "?"))" } ?? "stale" }
            var status = ServiceProxyStatus(
                node: node, syncs: count, lastSync: Date(), services: services, vips: plan.vips.map(\.description),
                gracefulTermination: options.gracefulTermination, masqueradeAll: options.masqueradeAll,
                hairpinAll: options.hairpinAll, problems: plan.problems + errors, lastReport: report)
            status.owned = owned
            status.resourceVersions = versionMap
            status.lastSyncFull = previous == nil
            do { try status.write(stateDir: options.stateDir) } catch {
                log.warn("service proxy: cannot write the status file: \(error)")
            }
            for error in errors { log.error("service proxy: \(error)") }
            if let first = errors.first {
                monitor.failed(errors.count == 1 ? first : "\(first) (and \(errors.count - 1) more)")
            }
            log.info(
                "service proxy: sync \(count)\(previous == nil ? " (full)" : "") at versions \(versions) "
                    + "done in \(ms(ipvsDone - start)): plan \(ms(planned - start)) "
                    + "(\(plan.services.count) virtual services, \(plan.vips.count) VIPs), "
                    + "netfilter \(ms(netfilterDone - planned)) "
                    + "(\(netfilterError == nil ? "\(chainsCommitted) tables committed" : "failed")), "
                    + "ipvs \(ms(ipvsDone - netfilterDone)) (\(report.calls) changes: "
                    + "services +\(report.servicesAdded) ~\(report.servicesUpdated) -\(report.servicesDeleted), "
                    + "real servers +\(report.destinationsAdded) ~\(report.destinationsUpdated) "
                    + "-\(report.destinationsDeleted))"
            )
            // A sync with errors leaves the next one full: it reads the kernel back.
            return errors.isEmpty ? Applied(services: plan.services, parts: currentParts, netfilter: netfilter) : nil
        } catch {
            worker.monitor.failed("\(error)")
            log.error("service proxy: sync failed, the kernel keeps what it had; the next sync is a full one: \(error)")
            return nil
        }
    }

    private func ms(_ d: Duration) -> String {
        String(format: "%.1f ms", Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
    }
}
