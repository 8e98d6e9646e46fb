import Foundation
import Kernel
import KubeAPI
import KubeModel
import Planning
import Speaker
import TopUI

/// Reads the node for `krctl top`, once per tick, into one immutable `TopSnapshot`: the agent's status
/// files and control socket, its health endpoint, IPVS over generic netlink (`IPVSClient`), the pod
/// chains' counters through libiptc (`RuleCounterReader`), NFLOG samples (`NFLogReader`, on a thread of its own,
/// attributed by `DropAttribution`), and conntrack from /proc. The same readers as `krctl ipvs`, `krctl drops`,
/// `krctl bgp peers/routes` and `krctl doctor`. A source that fails is named in the snapshot; the rest is read.
final class TopCollector: @unchecked Sendable {
    struct Settings {
        var node: String?
        var stateDir: String
        var cluster: ClusterReader?
        var namespace: String?
        var healthURL: String
        var metricsURL: String?
        var doctor: Bool
    }

    let settings: Settings
    private var ipvs: IPVSClient?
    private var ipvsFailure: TopSnapshot.Source?
    private var cluster: ClusterSnapshot?
    private var clusterFailure: TopSnapshot.Source?
    private var clusterRead: Date?
    private var plans: [IPAddress.Family: FirewallPlan] = [:]
    private var findings: [TopSnapshot.Finding] = []
    private var doctorRead: Date?
    private let drops = Locked<DropLog>(DropLog())
    private let attribution = Locked<DropAttributionMemo?>(nil)
    private let stopping = Locked(false)
    private var nflogStarted = false
    private let health: CurlTransport
    private let metrics: CurlTransport?
    private var lastMetrics: TopMetrics?
    private var counterReaders: [IPAddress.Family: RuleCounterReader] = [:]
    /// What `readPods` derived from a chain's rules, for as long as its generation holds.
    private struct ChainView {
        var generation: Int
        /// The chain's rules as shown, their counters zero.
        var rules: [TopSnapshot.Rule]
        var accepts: [Int]
    }
    private var chainViews: [String: ChainView] = [:]
    /// Where each denial's REJECT rule is in its chain (by chain generation); emptied when the plan changes.
    private var rejectIndex: [String: (generation: Int, index: Int?)] = [:]

    /// The NFLOG samples seen so far (the last `limit`), and who holds the group when krctl cannot.
    struct DropLog: Sendable {
        static let limit = 200
        var drops: [Drop] = []
        /// Each drop's `flowKey`, in the same order.
        var keys: [String] = []
        var last: [String: Date] = [:]
        var suggestions: [String: String] = [:]
        var failure: TopSnapshot.Source?
    }

    init(_ settings: Settings) {
        self.settings = settings
        health = CurlTransport(config: KubeConfig(server: settings.healthURL))
        metrics = settings.metricsURL.map { CurlTransport(config: KubeConfig(server: $0)) }
    }

    func stop() { stopping.set(true) }

    /// Names the calling thread as `top -H` and /proc/PID/task/TID/comm show it (15 bytes at most).
    static func nameThread(_ name: String) {
        try? String(name.prefix(15)).write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
    }

    /// This thread's CPU time, in milliseconds.
    static func threadCPU() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) * 1000 + Double(t.tv_nsec) / 1e6
    }

    func collect(interval: Double) -> TopSnapshot {
        var costs: [String: Double] = [:]
        var mark = Self.threadCPU()
        /// Charges the CPU time since the last mark to `source`.
        func charge(_ source: String) {
            let now = Self.threadCPU()
            costs[source, default: 0] += now - mark
            mark = now
        }
        let snapshot = collectSources(interval: interval, charge: charge)
        var result = snapshot
        charge("other")
        result.collection = costs.mapValues { ($0 * 1000).rounded() / 1000 }
        return result
    }

    private func collectSources(interval: Double, charge: (String) -> Void) -> TopSnapshot {
        let now = Date()
        var sources: [TopSnapshot.Source] = []
        let firewall = FirewallStatus.read(stateDir: settings.stateDir)
        let proxy = ServiceProxyStatus.read(stateDir: settings.stateDir)
        let router = RouterStatus.read(stateDir: settings.stateDir)
        let node =
            settings.node ?? firewall?.node ?? proxy?.node ?? router?.node ?? ProcessInfo.processInfo.hostName

        charge("status files")
        refreshCluster(node: node, firewall: firewall, now: now)
        charge("cluster")
        if let clusterFailure { sources.append(clusterFailure) }

        var snapshot = TopSnapshot(time: now, node: node, interval: interval)
        snapshot.controllers = controllers(firewall: firewall, proxy: proxy, router: router)
        if let metrics, let url = settings.metricsURL {
            if let response = try? metrics.request(method: "GET", path: "", timeout: 1), response.status == 200 {
                let read = TopMetrics(text: String(decoding: response.body, as: UTF8.self))
                snapshot.controllers = read.apply(to: snapshot.controllers, since: lastMetrics)
                if !read.watches.isEmpty { snapshot.watches = read.watches.values.sorted { $0.resource < $1.resource } }
                lastMetrics = read
            } else {
                sources.append(
                    .init(name: "metrics", state: .unreachable, message: "the agent's metrics \(url) do not answer"))
            }
        }
        if firewall == nil && proxy == nil && router == nil {
            sources.append(
                .init(
                    name: "agent", state: .unreachable,
                    message: "no status file in \(settings.stateDir) (is kube-router running? --state-dir)"))
        }
        charge("metrics")
        let (agent, healthSource) = readHealth()
        charge("health")
        snapshot.agent = agent
        if let healthSource { sources.append(healthSource) }
        let (services, ipvsSource) = readServices(proxy)
        snapshot.services = services
        if let ipvsSource { sources.append(ipvsSource) }
        charge("ipvs")
        charge("other")
        let (pods, firewallSource) = readPodsWithinBudget(now: now, interval: interval, charge: charge)
        snapshot.pods = pods
        snapshot.countersRead = podsRead?.time
        let period = firewallPeriod(interval: interval)
        snapshot.countersEvery = podsRead != nil && period > interval ? period : nil
        if let firewallSource { sources.append(firewallSource) }
        charge("firewall")
        let log = drops.get()
        snapshot.drops = log.drops
        let shown = Set(log.keys)
        let suggestions = log.suggestions.filter { shown.contains($0.key) }
        snapshot.suggestions = suggestions.isEmpty ? nil : suggestions
        for i in snapshot.pods.indices {
            snapshot.pods[i].lastDrop = log.last["\(snapshot.pods[i].pod)|\(snapshot.pods[i].direction)"]
        }
        if let failure = log.failure { sources.append(failure) }
        charge("drops")
        let (peers, routes, bgpSource) = readBGP(router)
        snapshot.peers = peers
        snapshot.routes = routes
        if let bgpSource { sources.append(bgpSource) }
        charge("bgp")
        snapshot.conntrack = readConntrack()
        charge("conntrack")
        // The doctor reads the whole ruleset and the node's files: every 5 minutes (findings are slow to change).
        if settings.doctor, doctorRead.map({ now.timeIntervalSince($0) >= 300 }) ?? true {
            doctorRead = now
            findings = NodeDoctor.run(root: "/", stateDir: settings.stateDir).checks
                .filter { $0.status == .warn || $0.status == .fail }
                .map { TopSnapshot.Finding(id: $0.id, status: $0.status.rawValue, message: $0.message) }
        }
        charge("doctor")
        snapshot.findings = findings
        snapshot.sources = sources
        return snapshot
    }

    // MARK: sources

    func controllers(
        firewall: FirewallStatus?, proxy: ServiceProxyStatus?, router: RouterStatus?
    ) -> [TopSnapshot.Controller] {
        var list: [TopSnapshot.Controller] = []
        if let f = firewall {
            list.append(
                .init(
                    name: "firewall", syncs: f.syncs, lastSync: Timestamp.date(f.lastSync),
                    lastSyncFull: f.lastSyncFull,
                    errors: 0, problems: (f.rejected ?? []).map { "rejected \($0)" }, pid: f.pid))
        }
        if let p = proxy {
            list.append(
                .init(
                    name: "service-proxy", syncs: p.syncs, lastSync: Timestamp.date(p.lastSync),
                    lastSyncFull: p.lastSyncFull, errors: p.problems.count, problems: p.problems, pid: p.pid))
        }
        if let r = router {
            list.append(
                .init(
                    name: "router", syncs: r.syncs, lastSync: Timestamp.date(r.lastSync), errors: r.problems.count,
                    problems: r.problems, pid: r.pid))
        }
        return list
    }

    struct HealthReport: Decodable {
        struct Check: Decodable {
            var name: String
            var ok: Bool
            var message: String
        }
        var status: String
        var checks: [Check]
    }

    func readHealth() -> (TopSnapshot.Agent?, TopSnapshot.Source?) {
        func ask(_ path: String) throws -> HealthReport {
            let response = try health.request(method: "GET", path: path, timeout: 1)
            return try JSONDecoder().decode(HealthReport.self, from: response.body)
        }
        do {
            let ready = try ask("/readyz?verbose")
            let live = try? ask("/livez")
            let agent = TopSnapshot.Agent(
                ready: ready.status == "ok", live: live.map { $0.status == "ok" },
                reasons: ready.checks.filter { !$0.ok }.map { "\($0.name): \($0.message)" })
            return (agent, nil)
        } catch {
            let source = TopSnapshot.Source(
                name: "health", state: .unreachable,
                message:
                    "the agent's health endpoint \(settings.healthURL) does not answer "
                    + "(is kube-router running with its --health-port? else --health-url)")
            return (nil, source)
        }
    }

    func readServices(_ status: ServiceProxyStatus?) -> ([TopSnapshot.Service], TopSnapshot.Source?) {
        if ipvs == nil && ipvsFailure == nil {
            do { ipvs = try IPVSClient() } catch {
                let text = "\(error)"
                ipvsFailure = .init(
                    name: "ipvs", state: text.contains("not available") ? .unavailable : .unreachable, message: text)
            }
        }
        guard let ipvs else { return ([], ipvsFailure) }
        var podsByIP: [String: Pod] = [:]
        for pod in cluster?.pods.values ?? [:].values { for ip in pod.ips { podsByIP[ip.description] = pod } }
        do {
            var services: [TopSnapshot.Service] = []
            for service in try ipvs.services().sorted(by: { $0.key < $1.key }) {
                let owned = status?.owned?[service.key]
                let servers = try ipvs.destinations(of: service).sorted { $0.key < $1.key }.map { d in
                    let pod = podsByIP[d.address.description]
                    return TopSnapshot.Server(
                        address: d.key, pod: pod?.key, node: pod?.nodeName, weight: Int(d.weight),
                        active: Int(d.activeConnections), inactive: Int(d.inactiveConnections),
                        counters: Self.counters(d.stats))
                }
                var flags: [String] = []
                let serviceKey = owned?.service.flatMap { $0.split(separator: ":").first.map(String.init) }
                if let serviceKey, let object = cluster?.services[serviceKey] {
                    if object.externalTrafficPolicyLocal || object.internalTrafficPolicyLocal { flags.append("local") }
                    if object.meta.annotations["kube-router.io/service.hairpin"] != nil || status?.hairpinAll == true {
                        flags.append("hairpin")
                    }
                }
                let state: TopSnapshot.Service.State =
                    owned != nil && owned?.service == nil ? .drift : servers.isEmpty ? .noEndpoints : .ok
                services.append(
                    TopSnapshot.Service(
                        key: service.key, name: owned?.service, type: owned?.kind?.rawValue,
                        scheduler: service.scheduler,
                        persistenceSeconds: service.persistent ? Int(service.timeout) : nil,
                        flags: flags, state: state, counters: Self.counters(service.stats), servers: servers))
            }
            return (services, nil)
        } catch {
            return ([], .init(name: "ipvs", state: .unreachable, message: "cannot read the IPVS table: \(error)"))
        }
    }

    static func counters(_ stats: IPVSStats) -> TopSnapshot.Counters {
        TopSnapshot.Counters(
            connections: Double(stats.connections), packetsIn: Double(stats.packetsIn),
            packetsOut: Double(stats.packetsOut), bytesIn: Double(stats.bytesIn), bytesOut: Double(stats.bytesOut))
    }

    /// What the cluster was last read at: the agent's resource versions, or the manifests' sizes and times.
    private var clusterVersion: [String: String]?

    /// Reads and plans the cluster again only when it may have changed (loading and planning thousands of pods
    /// costs far more than a tick): when the agent's firewall status names other resource versions, or a
    /// manifest file changed, at most every 10 s; without either, every 60 s.
    func refreshCluster(node: String, firewall: FirewallStatus?, now: Date) {
        guard let reader = settings.cluster else { return }
        let version: [String: String]? =
            if !reader.manifests.isEmpty {
                Dictionary(
                    reader.manifests.map { path in
                        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
                        let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
                        let time = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                        return (path, "\(size) \(time)")
                    }, uniquingKeysWith: { $1 })
            } else {
                firewall?.resourceVersions
            }
        if let clusterRead {
            let age = now.timeIntervalSince(clusterRead)
            if let version, clusterFailure == nil {
                guard version != clusterVersion, age >= 10 else { return }
            } else if age < 60 {
                return
            }
        }
        clusterRead = now
        clusterVersion = version
        do {
            let (snapshot, _) = try reader.load()
            cluster = snapshot
            clusterFailure = nil
            let engine = PolicyEngine(snapshot, defaultDeny: firewall?.defaultDeny == true)
            let planner = FirewallPlanner(engine: engine)
            plans = [:]
            for family in [IPAddress.Family.ipv4, .ipv6] { plans[family] = planner.plan(node: node, family: family) }
            rejectIndex = [:]
            plansGeneration += 1
            var observed: [IPAddress.Family: ObservedFirewall] = [:]
            for family in [IPAddress.Family.ipv4, .ipv6] {
                observed[family] = try? ObservedFirewall.read(family: family)
            }
            attribution.set(
                DropAttributionMemo(DropAttribution(engine: engine, node: node, plans: plans, observed: observed)))
            startNFLog()
        } catch {
            clusterFailure = .init(
                name: "cluster", state: .unreachable,
                message:
                    "cannot read the cluster: \(error) (pods, policies and drops need it: --kubeconfig or --manifests)")
        }
    }

    /// The share of one core that reading the firewall's counters may take on average: a quarter of krctl top's
    /// whole budget (2%). The kernel copies the whole table for a read (about 25 ms of CPU at 20,000 rules, and
    /// 20 more to take it apart and build the rows): a large firewall is read every few ticks instead of every
    /// tick (every 10 s at 20,000 rules), and its rates are over the time between reads.
    static let firewallBudget = 0.005
    /// The last read of the pods' counters: its rows, when, its CPU cost (ms) and the plans it was read for.
    private var podsRead: (time: Date, rows: [TopSnapshot.PodDirection], cost: Double, plans: Int, reads: Int)?
    /// Counts the cluster's replans, so that a new plan is read at once.
    private var plansGeneration = 0

    /// How often the firewall's counters are read: every tick while a read costs at most `firewallBudget` of
    /// the interval, else every few ticks (whole ticks, so that the windows stay equal).
    func firewallPeriod(interval: Double) -> Double {
        TopRates.period(cost: podsRead?.cost ?? 0, interval: interval, budget: Self.firewallBudget)
    }

    /// `readPods` when due: at the first two ticks (a rate needs two reads), when the plan changed, and when
    /// `firewallPeriod` has passed since the last read; in between, that read's rows.
    func readPodsWithinBudget(
        now: Date, interval: Double, charge: (String) -> Void
    ) -> ([TopSnapshot.PodDirection], TopSnapshot.Source?) {
        if let last = podsRead, last.reads >= 2, last.plans == plansGeneration,
            now.timeIntervalSince(last.time) < firewallPeriod(interval: interval) - interval / 2
        {
            return (last.rows, nil)
        }
        let start = Self.threadCPU()
        let (rows, source) = readPods(charge: charge)
        if source == nil {
            podsRead = (
                now, rows, Self.threadCPU() - start, plansGeneration,
                podsRead?.plans == plansGeneration ? (podsRead?.reads ?? 0) + 1 : 1
            )
        } else {
            podsRead = nil
        }
        return (rows, source)
    }

    func readPods(charge: (String) -> Void = { _ in }) -> ([TopSnapshot.PodDirection], TopSnapshot.Source?) {
        guard !plans.isEmpty else {
            if settings.cluster == nil {
                return (
                    [],
                    .init(
                        name: "cluster", state: .unavailable,
                        message:
                            "no cluster to plan from: pass --kubeconfig or --manifests for the Policy and Drops panes")
                )
            }
            return ([], nil)
        }
        var rows: [TopSnapshot.PodDirection] = []
        var texts: [String: ChainView] = [:]
        for family in [IPAddress.Family.ipv4, .ipv6] {
            guard let plan = plans[family], !plan.denials.isEmpty else { continue }
            let chains: [String: RuleCounterReader.Chain]
            defer { charge("firewall rows") }
            do { chains = try counterReader(family).read() } catch {
                return (
                    rows,
                    .init(
                        name: "firewall", state: .unreachable,
                        message: "cannot read the firewall's counters (\(family.rawValue)): \(error) (run as root)")
                )
            }
            charge("firewall counters")
            // Only the planned denials' chains are looked at. What is derived from a chain's rules (their texts,
            // which of them accept, where the denial's REJECT is) is kept while the chain's generation holds:
            // per tick only the counters are new.
            for denial in plan.denials {
                let pod = denial.pod
                if let namespace = settings.namespace, !pod.hasPrefix(namespace + "/") { continue }
                guard let chain = chains[denial.chain] else {
                    rows.append(
                        TopSnapshot.PodDirection(
                            pod: pod, direction: denial.direction.word, family: family.rawValue, chain: denial.chain,
                            policies: denial.policies, refused: nil, allowed: nil, rules: []))
                    continue
                }
                let key = "\(family.rawValue) \(denial.chain)"
                let view: ChainView
                if let cached = texts[key] ?? chainViews[key], cached.generation == chain.generation {
                    view = cached
                } else {
                    view = ChainView(
                        generation: chain.generation,
                        rules: chain.rules.map { TopSnapshot.Rule(text: Self.describe($0), packets: 0) },
                        accepts: chain.rules.indices.filter { chain.rules[$0].target == .accept })
                }
                texts[key] = view
                // The denial's REJECT rule, found by identity (the rule as planned), never by position.
                let rejectKey = "\(key) \(denial.direction.word)"
                let reject: Int?
                if let cached = rejectIndex[rejectKey], cached.generation == chain.generation {
                    reject = cached.index
                } else {
                    reject = chain.rules.firstIndex(of: denial.reject)
                    rejectIndex[rejectKey] = (chain.generation, reject)
                }
                var rules = view.rules
                for i in rules.indices { rules[i].packets = chain.packets[i] }
                rows.append(
                    TopSnapshot.PodDirection(
                        pod: pod, direction: denial.direction.word, family: family.rawValue, chain: denial.chain,
                        policies: denial.policies, refused: reject.map { chain.packets[$0] },
                        allowed: chain.rules.isEmpty ? nil : view.accepts.reduce(UInt64(0)) { $0 &+ chain.packets[$1] },
                        rules: rules))
            }
        }
        chainViews = texts
        return (rows, nil)
    }

    /// One reader per family, so that unchanged chains are not decoded again.
    private func counterReader(_ family: IPAddress.Family) -> RuleCounterReader {
        if let reader = counterReaders[family] { return reader }
        let reader = RuleCounterReader(family: family)
        counterReaders[family] = reader
        return reader
    }

    static func describe(_ rule: Rule) -> String {
        let target: String
        switch rule.target {
        case .accept: target = "ACCEPT"
        case .drop: target = "DROP"
        case .return: target = "RETURN"
        case .reject: target = "REJECT"
        case .jump(let chain): target = "→ " + chain
        case .nflog(let group, _): target = "NFLOG \(group)"
        default: target = "\(rule.target)"
        }
        var parts = [target]
        if !rule.conntrackStates.isEmpty { parts.append("ctstate " + rule.conntrackStates.joined(separator: ",")) }
        if let proto = rule.proto { parts.append(proto.rawValue) }
        if let ports = rule.destinationPorts {
            parts.append(
                "dport " + (ports.count == 1 ? "\(ports.lowerBound)" : "\(ports.lowerBound):\(ports.upperBound)"))
        }
        for set in rule.sets { parts.append("set \(set.negated ? "!" : "")\(set.name)") }
        if !rule.comment.isEmpty { parts.append("/* \(rule.comment) */") }
        return parts.joined(separator: " ")
    }

    /// Binds NFLOG on a thread of its own: samples are attributed as they come (event-driven).
    func startNFLog() {
        guard !nflogStarted else { return }
        nflogStarted = true
        let reader: NFLogReader
        do {
            reader = try NFLogReader(group: FirewallNames.logGroup)
        } catch NFLogReader.Failure.held(_, let holder) {
            let message = "\(NFLogReader.Failure.held(group: FirewallNames.logGroup, holder: holder))"
            drops.mutate {
                $0.failure = .init(
                    name: "nflog", state: .unreachable, message: message + ": drops/s from counters only")
            }
            return
        } catch {
            drops.mutate {
                $0.failure = .init(name: "nflog", state: .unreachable, message: "cannot read NFLOG: \(error)")
            }
            return
        }
        let thread = Thread { [drops, attribution, stopping] in
            Self.nameThread("krctl top nflog")
            defer { reader.close() }
            while !stopping.get() {
                guard let packets = try? reader.next(timeout: 0.5) else { continue }
                for packet in packets where packet.group == reader.group {
                    // Attributed once per flow (the memo), not once per packet.
                    guard var drop = attribution.mutate({ $0?.attribute(packet) }) else { continue }
                    let key = drop.flowKey
                    let known = drops.get().suggestions[key] != nil
                    let suggestion = known ? nil : attribution.mutate { $0?.suggestion(packet) }
                    drops.mutate { log in
                        // Alike packets (one flow, one side) are one row with their count, at the latest time.
                        if let same = log.keys.lastIndex(of: key) {
                            drop.count += log.drops[same].count
                            log.drops.remove(at: same)
                            log.keys.remove(at: same)
                        }
                        log.drops.append(drop)
                        log.keys.append(key)
                        if let suggestion { log.suggestions[key] = suggestion.yaml }
                        if log.drops.count > DropLog.limit {
                            let excess = log.drops.count - DropLog.limit
                            for old in log.keys.prefix(excess) { log.suggestions[old] = nil }
                            log.drops.removeFirst(excess)
                            log.keys.removeFirst(excess)
                        }
                        if let pod = drop.pod, let direction = drop.direction {
                            log.last["\(pod)|\(direction)"] = packet.time
                        }
                    }
                }
            }
        }
        thread.name = "krctl top nflog"
        thread.start()
    }

    func readBGP(_ router: RouterStatus?) -> ([TopSnapshot.Peer], [TopSnapshot.Route], TopSnapshot.Source?) {
        let path = settings.stateDir + "/" + ControlSocket.fileName
        let peers: [BGPSpeaker.PeerStatus]
        let routes: [BGPSpeaker.RouteStatus]
        do {
            peers = try JSONDecoder().decode(
                [BGPSpeaker.PeerStatus].self, from: try ControlSocket.ask(path: path, "bgp peers", timeout: 2))
            routes = try JSONDecoder().decode(
                [BGPSpeaker.RouteStatus].self, from: try ControlSocket.ask(path: path, "bgp routes", timeout: 2))
        } catch {
            if router == nil {
                return (
                    [], [],
                    .init(
                        name: "bgp", state: .unavailable, message: "the agent's router is not running (no router.json)")
                )
            }
            return (
                [], [], .init(name: "bgp", state: .unreachable, message: "the agent's control socket \(path): \(error)")
            )
        }
        let ownASN = router?.asn
        return (
            peers.map { p in
                TopSnapshot.Peer(
                    address: p.address, asn: p.asn, type: ownASN == p.asn ? "iBGP" : "eBGP", state: p.state,
                    since: p.uptimeSeconds.map { TopText.age(Double($0)) }, received: p.prefixesReceived,
                    accepted: p.prefixesAccepted, advertised: p.prefixesAdvertised,
                    flaps: max(0, (p.establishedTransitions ?? 0) - (p.state == "Established" ? 1 : 0)),
                    lastError: p.lastError)
            },
            routes.map {
                TopSnapshot.Route(
                    prefix: $0.prefix, nextHop: $0.nextHop, peer: $0.peer, inKernel: $0.inKernel,
                    status: $0.status.rawValue)
            },
            nil
        )
    }

    func readConntrack() -> TopSnapshot.Conntrack? {
        func number(_ path: String) -> Int? {
            (try? String(contentsOfFile: path, encoding: .utf8)).flatMap {
                Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        let count = number("/proc/sys/net/netfilter/nf_conntrack_count")
        let max = number("/proc/sys/net/netfilter/nf_conntrack_max")
        let stats = DenialCounters.conntrack()
        guard count != nil || stats != nil else { return nil }
        return TopSnapshot.Conntrack(
            count: count, max: max, insertFailed: stats?.insertFailed ?? 0, invalid: stats?.invalid ?? 0)
    }
}
