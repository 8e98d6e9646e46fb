import Foundation
import Kernel
import KubeAPI
import KubeModel
import Planning
import Speaker

/// Pod networking over BGP: from the nodes in the API, the peers of this node (the full mesh of its
/// AS, routers from flags and annotations) and its pod CIDRs; the speaker does the rest. Node events
/// only mark the plan dirty; the worker (`SyncWorker`) coalesces them into syncs (plan → speaker → CNI
/// file → status), every `period` a sync replans (the node's connected networks may have changed), and
/// a sync that fails (the speaker cannot listen) is retried after `retry` seconds.
final class RouterController: @unchecked Sendable {
    struct Options {
        var settings: RouterSettings
        var bgpPort: UInt16
        var maxPrefixes: Int
        var holdTime: UInt16
        var gracefulRestartTime: UInt16?
        /// Routes a previous run left stay until every peer sent End-of-RIB, or this many seconds.
        var startupDeferral: Double = 360
        var cniConfigPath: String?
        /// The CNI network to write (`--cni-conf-template`): its host-local IPAM gets the node's pod CIDRs;
        /// nil: the bridge plugin on kube-bridge with host-local IPAM, and portmap.
        var cniTemplate: JSONValue? = nil
        var controlSocketPath: String
        /// Where `router.json` goes (nil: no status file).
        var stateDir: String?
        var period: Double = 60
        var retry: Double = 1
        /// `--enable-pod-egress`: masquerade pods' traffic that leaves the cluster (`PodEgress`); when false,
        /// what an earlier run set up for it is removed.
        var podEgress = false
        /// `--override-nexthop`: next-hop-self (the session's local address) instead of the node's address.
        var overrideNextHop = false
    }

    private let cluster: any ClusterState
    private let node: String
    private let options: Options
    private let log: Log
    private let routes: (any RouteBackend)?
    private let backends: KernelBackends
    private let worker: SyncWorker
    /// Guards what the worker, the control socket and the sessions' threads share.
    private let lock = NSLock()
    private var speaker: BGPSpeaker?
    private var stopped = false
    private var syncCount = 0
    /// The last status written (the sessions' threads rewrite its peer counts).
    private var status: RouterStatus?
    /// Held through each sync: `stop` waits for the one under way, so none starts a speaker or peers after it.
    private let syncing = NSLock()
    /// What the worker thread alone touches.
    private var lastProblems: [String] = []
    private var lastSummary: String?
    /// Why no speaker runs (under `lock`), for readiness.
    private var noSpeakerReason: String?
    private var writtenCNI: String?
    /// The syncs that must have succeeded in full once before the CNI file is written (under `lock`).
    private var cniPrerequisites: [SyncMonitor] = []
    private var cniWaitLogged = false

    /// `routes`: where the speaker installs learned routes (nil: the kernel's main table).
    /// `backends`: where pod egress's sets and nat rules go.
    init(
        cluster: any ClusterState, node: String, options: Options, log: Log, routes: (any RouteBackend)? = nil,
        backends: KernelBackends = .real
    ) {
        self.cluster = cluster
        self.node = node
        self.options = options
        self.log = log
        self.routes = routes
        self.backends = backends
        worker = SyncWorker(name: "router", period: options.period, retry: options.retry)
    }

    func handle(_ event: InformerEvent) {
        switch event {
        case .synced: worker.markDirty()
        case .added(let o), .deleted(let o), .updated(_, let o):
            // Services and their endpoints: the service IPs this node announces.
            if ["Node", "Service", "EndpointSlice"].contains(o.kind) { worker.markDirty() }
        case .problem, .rejected: break  // the firewall controller (or the log) reports API problems
        }
    }

    func markDirty() { worker.markDirty() }

    /// The CNI file is written only once each of `monitors` (the firewall's) and this controller's own sync
    /// have succeeded in full: before that, the kubelet would start pods on this node that no policy
    /// protects yet (kube-router #873). Their first full success wakes this controller. Call before `start`.
    func writeCNIAfter(_ monitors: [SyncMonitor]) {
        lock.withLock { cniPrerequisites = monitors }
        for monitor in monitors {
            monitor.observe { [weak self] sync in
                guard let self, sync.full, sync.succeeded, self.lock.withLock({ self.cniPending }) else { return }
                self.worker.markDirty()
            }
        }
    }

    /// Whether the CNI file is still to be written (`--enable-cni`).
    private var cniPending: Bool { options.cniConfigPath != nil && !cniWritten }
    private var cniWritten = false

    func start() throws {
        try ControlSocket.serve(path: options.controlSocketPath) { [weak self] command in
            self?.answer(command) ?? Data("{}".utf8)
        }
        worker.start(ready: { [cluster] in cluster.hasSynced }) { [self] full in sync(full: full) }
    }

    /// Stops the worker, then the speaker: a replaced speaker's sessions end with a Cease and, without
    /// graceful restart, its learned routes go. Waits for a running sync (an hour at most: Foundation's
    /// `NSCondition.wait(until: .distantFuture)` traps).
    func stop() { stop(waitingUntil: Date(timeIntervalSinceNow: 3600), reason: nil) }

    /// The agent stops, to be started again: no new sync starts and the running one may end until `deadline`;
    /// then peers that negotiated graceful restart see the sessions close (they keep our routes as stale),
    /// the others get a Cease / Administrative Shutdown saying `reason`, and every route stays in the kernel.
    /// Whether the running sync ended in time.
    @discardableResult
    func stop(waitingUntil deadline: Date, reason: String?) -> Bool {
        let ended = worker.stop(waitingUntil: deadline)
        // A sync past the deadline may still be running: it sees `stopped` and starts nothing more.
        let acquired = syncing.lock(before: deadline)
        defer { if acquired { syncing.unlock() } }
        let speaker: BGPSpeaker? = lock.withLock {
            stopped = true
            defer { self.speaker = nil }
            return self.speaker
        }
        speaker?.stop(restarting: true, reason: reason)
        return ended
    }

    /// What its syncs did (health, metrics).
    var monitor: SyncMonitor { worker.monitor }

    /// The speaker's state for the metrics: its AS, peers and route counts (nil before it starts).
    func bgpSnapshot() -> (asn: UInt32, peers: [BGPSpeaker.PeerStatus], routes: BGPSpeaker.RouteCounters)? {
        guard let speaker = lock.withLock({ self.speaker }) else { return nil }
        return (speaker.config.asn, speaker.peerStatus(), speaker.routeCounters)
    }

    /// Readiness: the BGP speaker listens (it starts with the first sync that finds a router ID).
    func readiness() -> (ok: Bool, message: String) {
        if let speaker = lock.withLock({ self.speaker }) {
            return (true, "BGP speaker listening on port \(speaker.config.port)")
        }
        return (false, lock.withLock { noSpeakerReason } ?? "the BGP speaker has not started")
    }

    /// One sync: the plan, the speaker (started, or restarted when the AS or router ID changed), its
    /// peers, policy and prefixes, the CNI file and the status. False when the speaker cannot start.
    /// `full`: the periodic sync, which also repairs pod egress's sets and chain against the kernel.
    private func sync(full: Bool = false) -> Bool {
        syncing.withLock {
            guard !lock.withLock({ stopped }) else { return true }
            if full && options.podEgress { egressApplied = nil }
            // The node's links: read at the first and at each periodic sync, not at every Service or
            // EndpointSlice event (a route dump, all of the BGP routes included).
            if full || connected == nil { connected = Self.connectedNetworks() }
            return syncUnlocked()
        }
    }

    /// The subnets of this node's links as last read (`connectedNetworks`).
    private var connected: [CIDR]?

    private func syncUnlocked() -> Bool {
        // Read before the snapshot: every change of each resource up to its version is in it.
        let versions = cluster.resourceVersions
        let snapshot = cluster.snapshot()
        let egressDone = syncPodEgress(nodes: Array(snapshot.nodes.values))
        return syncSpeaker(snapshot: snapshot, versions: versions) && egressDone
    }

    /// The families whose nat table the kernel has (pod egress), found once.
    private lazy var natFamilies: [IPAddress.Family] = [IPAddress.Family.ipv4, .ipv6].filter {
        (try? backends.iptables("nat", $0)) != nil
    }

    /// The pod egress plans last applied (nil: none yet, or the last apply failed: the next one is whole).
    private var egressApplied: [PodEgress.Plan]?
    private var egressProblem: String?
    private var egressLogged: Int?

    /// Pod egress: both families' sets and nat chain from every node, or (turned off) their removal. Only the
    /// families whose nat table the kernel has.
    private func syncPodEgress(nodes: [Node]) -> Bool {
        guard options.podEgress || egressApplied == nil else { return true }
        let families = natFamilies
        do {
            if options.podEgress {
                let plans = families.map { PodEgress.plan(nodes: nodes, family: $0) }
                guard plans != egressApplied else { return true }
                let session = try backends.ipsets()
                for plan in plans {
                    let before = egressApplied?.first { $0.family == plan.family }
                    _ = try IPSetSync(backend: session, owner: PodEgress.setOwner).apply(
                        plan.sets, previous: before?.sets)
                    _ = try IPTablesSync.apply(
                        plan.nat, previous: before?.nat, owner: PodEgress.natOwner, open: backends.iptables)
                }
                let subnets = plans.flatMap { $0.sets.first?.members ?? [] }.count
                if subnets != egressLogged {
                    egressLogged = subnets
                    log.info("router: pod egress: masquerading pods' traffic that leaves the \(subnets) pod CIDR(s)")
                }
                egressApplied = plans
            } else if egressApplied == nil {
                var chains = 0
                for family in families {
                    chains += try IPTablesSync.cleanup(
                        family: family, owner: PodEgress.natOwner, open: backends.iptables
                    )
                    .chainsDeleted
                }
                let sets = try IPSetSync(backend: try backends.ipsets(), owner: PodEgress.setOwner).removeStale(
                    keeping: [])
                if chains + sets.count > 0 {
                    log.info("router: pod egress is off: removed \(chains) chain(s) and \(sets.count) set(s) of it")
                }
                egressApplied = []
            }
            egressProblem = nil
            return true
        } catch {
            egressApplied = nil
            let problem = "pod egress: \(error)"
            if problem != egressProblem { log.error("router: \(problem); retrying") }
            egressProblem = problem
            return false
        }
    }

    private func syncSpeaker(snapshot: ClusterSnapshot, versions: [String: String]) -> Bool {
        var settings = options.settings
        settings.localNetworks = connected ?? []
        let plan = RouterPlanner.plan(
            node: node, nodes: snapshot.nodes, settings: settings, bgpPort: options.bgpPort,
            services: snapshot.services, slices: snapshot.endpointSlices)
        if plan.problems != lastProblems {
            for problem in plan.problems { log.warn("router: \(problem)") }
            lastProblems = plan.problems
        }
        guard let routerID = plan.routerID else {
            let summary = "router: no router ID: node \(node) has no IPv4 InternalIP; give --router-id"
            if summary != lastSummary { log.warn(summary) }
            lastSummary = summary
            lock.withLock { noSpeakerReason = "no router ID: node \(node) has no IPv4 InternalIP; give --router-id" }
            writeStatus(plan: plan, versions: versions)
            return true
        }
        let running = lock.withLock { speaker }
        if let running,
            running.config.asn != plan.localASN || running.config.routerID != routerID
                || running.config.clusterID != plan.clusterID
        {
            log.info(
                "router: AS, router ID or route reflector cluster ID changed (AS \(plan.localASN), ID \(routerID)"
                    + "\(plan.clusterID.map { ", cluster ID \(IPAddress(v4: $0))" } ?? "")): restarting the speaker")
            running.stop()
            lock.withLock { speaker = nil }
        }
        let current: BGPSpeaker
        if let existing = lock.withLock({ speaker }) {
            current = existing
        } else {
            do {
                var config = BGPSpeaker.Config(
                    asn: plan.localASN, routerID: routerID, port: options.bgpPort, holdTime: options.holdTime,
                    connectRetry: 1, gracefulRestartTime: options.gracefulRestartTime,
                    maxPrefixes: options.maxPrefixes, startupDeferral: options.startupDeferral)
                config.overrideNextHop = options.overrideNextHop
                config.clusterID = plan.clusterID
                let new = try BGPSpeaker(
                    config: config, importPolicy: plan.importPolicy,
                    routes: routes
                ) { [log] message in log.info(message) }
                new.onSessionChange { [weak self] in self?.updatePeerCounts() }
                try new.start()
                lock.withLock { speaker = new }
                current = new
                log.info("router: BGP speaker AS \(plan.localASN), router ID \(routerID), port \(options.bgpPort)")
            } catch {
                worker.monitor.failed("cannot start the BGP speaker: \(error)")
                lock.withLock { noSpeakerReason = "cannot start the BGP speaker: \(error)" }
                log.error("router: cannot start the BGP speaker: \(error); retrying in \(options.retry) s")
                return false
            }
        }
        current.setImportPolicy(plan.importPolicy)
        current.setPeers(plan.peers)
        current.setNodeAddresses(plan.nodeAddresses)
        current.setExports(plan.exports)
        current.setAdvertised(plan.announced)
        let prefixes = plan.announced.map(\.description).joined(separator: ", ")
        let summary = "\(plan.peers.count) peer(s), advertising \(prefixes)"
        if summary != lastSummary {
            log.info("router: \(summary)")
            lastSummary = summary
        }
        let waitingFor = lock.withLock { cniPrerequisites.filter { $0.snapshot.fullSuccesses == 0 } }
        if waitingFor.isEmpty {
            writeCNIConfig(plan.advertised)
        } else if options.cniConfigPath != nil && !cniWaitLogged {
            cniWaitLogged = true
            let names = waitingFor.map(\.controller).joined(separator: ", ")
            log.info("router: the CNI configuration waits for the first full sync of: \(names)")
        }
        writeStatus(plan: plan, versions: versions)
        return true
    }

    /// `<state-dir>/router.json` after a sync.
    private func writeStatus(plan: RouterPlan, versions: [String: String]) {
        let counts = lock.withLock { speaker }?.peerCounts ?? (configured: 0, established: 0)
        lock.withLock {
            syncCount += 1
            var status = RouterStatus(
                node: node, syncs: syncCount, lastSync: Date(),
                asn: plan.routerID == nil ? nil : plan.localASN,
                routerID: plan.routerID?.description,
                advertised: plan.announced.map(\.description),
                peersConfigured: counts.configured, peersEstablished: counts.established,
                problems: plan.problems)
            status.resourceVersions = versions
            self.status = status
        }
        writeLatest()
    }

    /// A session came up or went down: the status's peer counts follow.
    private func updatePeerCounts() {
        guard let counts = lock.withLock({ speaker })?.peerCounts else { return }
        let changed: Bool = lock.withLock {
            guard var status = self.status else { return false }
            status.peersConfigured = counts.configured
            status.peersEstablished = counts.established
            self.status = status
            return true
        }
        if changed { writeLatest() }
    }

    private let writeLock = NSLock()

    /// Writes the latest status (two threads write: the worker and a session's; the file is never older
    /// than what either wrote last).
    private func writeLatest() {
        guard let stateDir = options.stateDir else { return }
        writeLock.withLock {
            guard let latest = lock.withLock({ self.status }) else { return }
            do {
                try latest.write(stateDir: stateDir)
            } catch {
                log.warn("router: cannot write the status file in \(stateDir): \(error)")
            }
        }
    }

    /// The subnets of this node's links: the kernel's own routes (protocol kernel) without a gateway.
    static func connectedNetworks() -> [CIDR] {
        guard let table = try? RouteTable() else { return [] }
        return [IPAddress.Family.ipv4, .ipv6].flatMap { family in
            ((try? table.routes(family: family, proto: 2)) ?? [])
                .filter { $0.gateways.isEmpty && $0.destination.prefixLength > 0 }.map(\.destination)
        }
    }

    /// `--enable-cni`: the CNI network (the template's, or the bridge plugin on kube-bridge) with host-local
    /// IPAM over the node's pod CIDRs.
    private func writeCNIConfig(_ cidrs: [CIDR]) {
        guard let path = options.cniConfigPath, !cidrs.isEmpty else { return }
        let text = Self.cniConfig(template: options.cniTemplate, podCIDRs: cidrs)
        guard text != writtenCNI else { return }
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            writtenCNI = text
            lock.withLock { cniWritten = true }
            log.info("router: wrote the CNI configuration \(path)")
        } catch {
            log.error("router: cannot write the CNI configuration \(path): \(error)")
        }
    }

    /// The CNI configuration for `podCIDRs`: every host-local IPAM of the template (a conflist's plugins, or
    /// a single network) gets one range per pod CIDR, in place of any `subnet` or `ranges` it had.
    static func cniConfig(template: JSONValue?, podCIDRs: [CIDR]) -> String {
        let ranges: JSONValue = .array(podCIDRs.map { .array([.object(["subnet": .string($0.description)])]) })
        guard var network = template else {
            let text = podCIDRs.map { "[{\"subnet\": \"\($0)\"}]" }.joined(separator: ", ")
            return """
                {
                  "cniVersion": "0.3.0",
                  "name": "mynet",
                  "plugins": [
                    {
                      "name": "kubernetes",
                      "type": "bridge",
                      "bridge": "kube-bridge",
                      "isDefaultGateway": true,
                      "hairpinMode": true,
                      "ipam": {"type": "host-local", "ranges": [\(text)]}
                    },
                    {"type": "portmap", "capabilities": {"snat": true, "portMappings": true}}
                  ]
                }

                """
        }
        func filled(_ plugin: JSONValue) -> JSONValue {
            guard plugin["ipam"]?["type"]?.stringValue == "host-local" else { return plugin }
            var plugin = plugin
            plugin["ipam"]?["subnet"] = nil
            plugin["ipam"]?["ranges"] = ranges
            return plugin
        }
        if case .array(let plugins)? = network["plugins"] {
            network["plugins"] = .array(plugins.map(filled))
        } else {
            network = filled(network)
        }
        return String(decoding: network.jsonData(), as: UTF8.self) + "\n"
    }

    /// The control socket's commands: `bgp peers`, `bgp routes`.
    private func answer(_ command: String) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let speaker = lock.withLock { self.speaker }
        switch command.trimmingCharacters(in: .whitespaces) {
        case "bgp peers": return (try? encoder.encode(speaker?.peerStatus() ?? [])) ?? Data("[]".utf8)
        case "bgp routes":
            // A full table's answer is large: the control socket gives its memory back once it is sent.
            return (try? encoder.encode(speaker?.routeStatus() ?? [])) ?? Data("[]".utf8)
        default: return Data("{\"error\": \"unknown command\"}".utf8)
        }
    }
}
