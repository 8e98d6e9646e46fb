import Foundation
import KubeModel
import Planning

/// Snapshots turned into what the panes show: tables with their rows, the Overview's tiles, the header's
/// figures, and for a selected row its explanation and the equivalent command. Pure.
public struct TopModel: Sendable {
    /// `krctl top pod NS/NAME` or `krctl top service NS/NAME`: everything narrowed to one object.
    public enum Focus: Sendable, Equatable {
        case pod(String)
        case service(String)

        public var name: String {
            switch self {
            case .pod(let n), .service(let n): n
            }
        }
    }

    /// An Overview tile.
    public struct Tile: Sendable, Equatable {
        public var title: String
        public var lines: [String]
        public var series: [Double]
        public var tone: TopTable.Tone
    }

    public var snapshot: TopSnapshot
    public var history: TopHistory
    /// The time ages are measured from (the snapshot's own time under --replay).
    public var now: Date
    public var focus: Focus?

    public init(snapshot: TopSnapshot, history: TopHistory = TopHistory(), now: Date? = nil, focus: Focus? = nil) {
        self.snapshot = snapshot
        self.history = history
        self.now = now ?? snapshot.time
        self.focus = focus
    }

    /// The data is older than three intervals: collection is behind or stopped.
    public var stale: Bool { now.timeIntervalSince(snapshot.time) > 3 * max(snapshot.interval, 0.5) + 1 }

    var ipvsNote: String? { snapshot.source("ipvs")?.message }

    // MARK: the panes' tables

    public func table(_ pane: TopPane, drill: String? = nil) -> TopTable {
        switch pane {
        case .overview: return TopTable(title: "Overview", columns: [], rows: [], empty: "")
        case .services: return drill.map(serverTable) ?? serviceTable()
        case .policy: return drill.map(ruleTable) ?? podTable()
        case .drops: return drill.map(dropExplanationTable) ?? dropTable()
        case .bgp: return drill.map(peerRouteTable) ?? peerTable()
        case .health: return drill.map(controllerTable) ?? healthTable()
        }
    }

    func concerns(service: TopSnapshot.Service) -> Bool {
        switch focus {
        case nil: return true
        case .service(let name): return service.name.map { $0 == name || $0.hasPrefix(name + ":") } ?? false
        case .pod(let pod): return service.servers.contains { $0.pod == pod }
        }
    }

    func concerns(pod: String) -> Bool {
        switch focus {
        case nil: return true
        case .pod(let name): return pod == name
        case .service: return focusedServicePods.contains(pod)
        }
    }

    func concerns(_ drop: Drop) -> Bool {
        guard focus != nil else { return true }
        return [drop.pod, drop.from, drop.to].contains { $0.map(concerns(pod:)) ?? false }
            || (drop.service.map { s in focus.map { $0.name == s || s.hasPrefix($0.name + ":") } ?? false } ?? false)
    }

    var focusedServicePods: Set<String> {
        guard case .service = focus else { return [] }
        return Set(snapshot.services.filter(concerns(service:)).flatMap { $0.servers.compactMap(\.pod) })
    }

    func serviceTable() -> TopTable {
        let columns = [
            TopTable.Column("CONN/S", 7, numeric: true), TopTable.Column("SERVICE", 22, flexible: true),
            TopTable.Column("VIP:PORT", 22, priority: 1), TopTable.Column("EP", 5, priority: 1, numeric: true),
            TopTable.Column("STATE", 12), TopTable.Column("ACT", 5, priority: 2, numeric: true),
            TopTable.Column("INACT", 5, priority: 3, numeric: true),
            TopTable.Column("PKT/S IN", 8, priority: 2, numeric: true),
            TopTable.Column("PKT/S OUT", 9, priority: 3, numeric: true),
            TopTable.Column("B/S IN", 8, priority: 3, numeric: true),
            TopTable.Column("B/S OUT", 8, priority: 4, numeric: true), TopTable.Column("TYPE", 11, priority: 3),
            TopTable.Column("SCHED", 5, priority: 3), TopTable.Column("FLAGS", 14, priority: 4),
        ]
        let rows = snapshot.services.filter(concerns(service:)).map { s -> TopTable.Row in
            let r = s.rates
            let ready = s.ready
            let (active, inactive) = s.servers.reduce((0, 0)) { ($0.0 + $1.active, $0.1 + $1.inactive) }
            let cells = [
                TopText.amount(r?.connections), s.name ?? "(not kube-router's)", s.key, "\(ready)/\(s.servers.count)",
                s.state.rawValue, String(active), String(inactive), TopText.amount(r?.packetsIn),
                TopText.amount(r?.packetsOut), TopText.amount(r?.bytesIn), TopText.amount(r?.bytesOut),
                s.type ?? "-", s.scheduler,
                (s.flags + (s.persistenceSeconds.map { ["persist \($0)s"] } ?? []))
                    .joined(separator: ","),
            ]
            func n(_ v: Double?) -> TopTable.SortValue { .number(v ?? -1) }
            let sort: [TopTable.SortValue] = [
                n(r?.connections), .text(s.name ?? "~"), .text(s.key), .number(Double(ready)),
                .text(s.state.rawValue),
                .number(Double(active)), .number(Double(inactive)), n(r?.packetsIn), n(r?.packetsOut),
                n(r?.bytesIn), n(r?.bytesOut), .text(s.type ?? ""), .text(s.scheduler), .text(cells[13]),
            ]
            let tone: TopTable.Tone = s.state == .ok ? .normal : s.state == .noEndpoints ? .warn : .bad
            return TopTable.Row(
                id: s.key, cells: cells, sort: sort, tone: tone,
                detail: [
                    "\(s.name ?? s.key)  \(s.key)  \(s.type ?? "-")  \(s.scheduler)  "
                        + "endpoints \(ready)/\(s.servers.count)",
                    "servers: "
                        + (s.servers.isEmpty
                            ? "none"
                            : s.servers.map { "\($0.address)\($0.pod.map { " (\($0))" } ?? "")" }
                                .joined(separator: ", ")),
                ])
        }
        let empty =
            ipvsNote.map { "IPVS: \($0)" }
            ?? (focus == nil ? "No virtual service in the IPVS table" : "No virtual service for \(focus!.name)")
        return TopTable(title: "Services", columns: columns, rows: rows, empty: empty, drillable: true)
    }

    func serverTable(_ key: String) -> TopTable {
        let service = snapshot.services.first { $0.key == key }
        let columns = [
            TopTable.Column("SERVER", 22), TopTable.Column("POD", 20, flexible: true),
            TopTable.Column("NODE", 12, priority: 2), TopTable.Column("WEIGHT", 6, priority: 1, numeric: true),
            TopTable.Column("ACT", 5, numeric: true), TopTable.Column("INACT", 5, priority: 1, numeric: true),
            TopTable.Column("CONN/S", 7, numeric: true), TopTable.Column("CONNS", 8, priority: 2, numeric: true),
        ]
        let rows = (service?.servers ?? []).map { s in
            TopTable.Row(
                id: s.address,
                cells: [
                    s.address, s.pod ?? "-", s.node ?? "-", "\(s.weight)", "\(s.active)", "\(s.inactive)",
                    TopText.amount(s.rates?.connections), TopText.amount(s.counters.connections),
                ],
                sort: [
                    .text(s.address), .text(s.pod ?? ""), .text(s.node ?? ""), .number(Double(s.weight)),
                    .number(Double(s.active)), .number(Double(s.inactive)), .number(s.rates?.connections ?? -1),
                    .number(s.counters.connections),
                ], tone: s.weight == 0 ? .dim : .normal,
                detail: ["\(s.address) weight \(s.weight)\(s.pod.map { " pod \($0)" } ?? "")"])
        }
        return TopTable(
            title: "Services › \(service?.name ?? key) (\(key))", columns: columns, rows: rows,
            empty: service == nil ? "\(key) is no longer in the IPVS table" : "No real server: NO-ENDPOINTS")
    }

    func podTable() -> TopTable {
        let columns = [
            TopTable.Column("POD", 24, flexible: true), TopTable.Column("DIR", 7),
            TopTable.Column("DROPS/S", 7, numeric: true), TopTable.Column("ALLOWED/S", 9, priority: 1, numeric: true),
            TopTable.Column("REFUSED", 8, priority: 2, numeric: true), TopTable.Column("FAM", 4, priority: 1),
            TopTable.Column("POLICIES", 20, priority: 1, flexible: true),
            TopTable.Column("LAST DROP", 9, priority: 2),
        ]
        let rows = snapshot.pods.filter { concerns(pod: $0.pod) }.map { p -> TopTable.Row in
            let last = p.lastDrop.map { TopText.age(now.timeIntervalSince($0)) + " ago" } ?? "-"
            let policies = p.policies.isEmpty ? "(default deny)" : p.policies.joined(separator: ",")
            var row = TopTable.Row(
                id: p.id,
                cells: [
                    p.pod, p.direction, TopText.amount(p.refusedPerSecond), TopText.amount(p.allowedPerSecond),
                    p.refused.map { "\($0)" } ?? "DRIFT", p.family, policies, last,
                ],
                sort: [
                    .text(p.pod), .text(p.direction), .number(p.refusedPerSecond ?? -1),
                    .number(p.allowedPerSecond ?? -1), .number(p.refused.map(Double.init) ?? -1), .text(p.family),
                    .text(policies), .number(p.lastDrop?.timeIntervalSince1970 ?? 0),
                ],
                tone: p.refused == nil ? .bad : (p.refusedPerSecond ?? 0) > 0 ? .warn : .normal,
                detail: [
                    "\(p.pod) \(p.direction) (\(p.family)): chain \(p.chain)",
                    "isolated by \(policies); "
                        + (p.refused.map { "\($0) refused in all" } ?? "the kernel lacks the planned REJECT rule"),
                ])
            if let lastDrop = p.lastDrop { row.ages[7] = lastDrop }
            return row
        }
        let empty =
            snapshot.source("cluster")?.message ?? snapshot.source("firewall")?.message
            ?? "No pod of this node is isolated by a policy"
        let title = snapshot.countersEvery.map { "Policy (counters every \(TopText.interval($0)))" } ?? "Policy"
        return TopTable(title: title, columns: columns, rows: rows, empty: empty, drillable: true)
    }

    func ruleTable(_ id: String) -> TopTable {
        let pod = snapshot.pods.first { $0.id == id }
        let columns = [
            TopTable.Column("HITS/S", 7, numeric: true), TopTable.Column("HITS", 9, priority: 1, numeric: true),
            TopTable.Column("RULE", 40, flexible: true),
        ]
        let rows = (pod?.rules ?? []).enumerated().map { i, r in
            TopTable.Row(
                id: "\(i)", cells: [TopText.amount(r.perSecond), "\(r.packets)", r.text],
                sort: [.number(r.perSecond ?? -1), .number(Double(r.packets)), .text(r.text)], detail: [r.text])
        }
        return TopTable(
            title: "Policy › \(pod.map { "\($0.pod) \($0.direction) (\($0.chain))" } ?? id)", columns: columns,
            rows: rows, empty: pod == nil ? "\(id) is no longer isolated" : "The chain has no rule the kernel holds")
    }

    var recentDrops: [Drop] { snapshot.drops.filter(concerns).reversed() }

    static func dropID(_ drop: Drop) -> String {
        "\(drop.flowKey)|\(drop.time.map { String($0.timeIntervalSince1970) } ?? "")"
    }

    func dropTable() -> TopTable {
        let columns = [
            TopTable.Column("TIME", 8), TopTable.Column("DIR", 7, priority: 2),
            TopTable.Column("SOURCE", 16, flexible: true), TopTable.Column("DESTINATION", 16, flexible: true),
            TopTable.Column("PROTO/PORT", 10), TopTable.Column("×", 4, priority: 1, numeric: true),
            TopTable.Column("KERNEL", 6, priority: 2), TopTable.Column("REASON", 20, priority: 1, flexible: true),
        ]
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let rows = recentDrops.map { d -> TopTable.Row in
            let port = [d.protocol, d.port.map(String.init)].compactMap { $0 }.joined(separator: "/")
            let kernel = d.kernelAgrees.map { $0 ? "agrees" : "DRIFT" } ?? "-"
            return TopTable.Row(
                id: Self.dropID(d),
                cells: [
                    d.time.map { formatter.string(from: $0) } ?? "-", d.direction ?? "-", d.from, d.to, port,
                    "\(d.count)", kernel, d.reason,
                ],
                sort: [
                    .number(d.time?.timeIntervalSince1970 ?? 0), .text(d.direction ?? ""), .text(d.from), .text(d.to),
                    .text(port), .number(Double(d.count)), .text(kernel), .text(d.reason),
                ],
                tone: d.kernelAgrees == false ? .bad : .normal,
                detail: [
                    "\(d.from) → \(d.to) \(port) \(d.direction ?? "") at \(d.pod ?? "?")",
                    d.reason,
                ])
        }
        let empty =
            snapshot.source("nflog")?.message ?? snapshot.source("cluster")?.message
            ?? "No drop logged yet (samples are limited to 10 a minute per pod chain and direction)"
        return TopTable(title: "Drops", columns: columns, rows: rows, empty: empty, drillable: true)
    }

    func dropExplanationTable(_ id: String) -> TopTable {
        let lines = snapshot.drops.first { Self.dropID($0) == id }.map(explanation) ?? ["The drop is no longer shown"]
        return TopTable(
            title: "Drops › explanation", columns: [TopTable.Column("EXPLANATION", 60, flexible: true)],
            rows: lines.enumerated().map { TopTable.Row(id: "\($0.offset)", cells: [$0.element]) }, empty: "")
    }

    func explanation(_ d: Drop) -> [String] {
        var lines = [
            "\(d.from) → \(d.to) \(d.protocol ?? "")/\(d.port.map(String.init) ?? "-") \(d.direction ?? "")",
            "Refused by: \(d.pod ?? "?") (\(d.policies.isEmpty ? "default deny" : d.policies.joined(separator: ", ")))",
            "Why: \(d.reason)",
            "Kernel: "
                + (d.kernelAgrees.map { $0 ? "its rules agree with the plan" : "DRIFT: the kernel differs" } ?? "-"),
        ]
        if let chain = d.chain { lines.append("Rule path: KUBE-ROUTER-FORWARD → \(chain) → NFLOG → REJECT") }
        if let service = d.service { lines.append("Service: \(service)") }
        if let yaml = snapshot.suggestions?[d.flowKey] {
            lines.append("")
            lines.append("To allow exactly this flow (review before applying):")
            lines += yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        } else if let pod = d.pod, let from = d.to == pod ? d.from : Optional(d.to) {
            lines.append("")
            lines.append("Suggested (review before applying): krctl drops --pod \(pod) --suggest")
            let (source, destination) = d.direction == "egress" ? (pod, from) : (from, pod)
            lines.append(
                "  or: krctl explain-policy --from \(source) --to \(destination) "
                    + "--port \(d.port.map(String.init) ?? "PORT")")
        }
        return lines
    }

    func peerTable() -> TopTable {
        let columns = [
            TopTable.Column("PEER", 16), TopTable.Column("ASN", 10, priority: 1, numeric: true),
            TopTable.Column("TYPE", 4, priority: 2), TopTable.Column("STATE", 11),
            TopTable.Column("SINCE", 8, priority: 1),
            TopTable.Column("RECV/ACC", 9, priority: 1, numeric: true),
            TopTable.Column("ADV", 5, priority: 2, numeric: true),
            TopTable.Column("FLAPS", 5, priority: 2, numeric: true),
            TopTable.Column("LAST ERROR", 20, priority: 3, flexible: true),
        ]
        let rows = snapshot.peers.map { p in
            TopTable.Row(
                id: p.address,
                cells: [
                    p.address, "\(p.asn)", p.type, p.state, p.since ?? "-", "\(p.received)/\(p.accepted)",
                    "\(p.advertised)", "\(p.flaps)", p.lastError ?? "",
                ],
                sort: [
                    .text(p.address), .number(Double(p.asn)), .text(p.type), .text(p.state), .text(p.since ?? ""),
                    .number(Double(p.accepted)), .number(Double(p.advertised)), .number(Double(p.flaps)),
                    .text(p.lastError ?? ""),
                ], tone: p.state == "Established" ? .good : .bad,
                detail: ["\(p.address) AS\(p.asn) \(p.type) \(p.state)", p.lastError.map { "last error: \($0)" } ?? ""])
        }
        let empty = snapshot.source("bgp")?.message ?? "No BGP peer (is the router running with peers?)"
        return TopTable(title: "BGP", columns: columns, rows: rows, empty: empty, drillable: true)
    }

    func peerRouteTable(_ peer: String) -> TopTable {
        let columns = [
            TopTable.Column("PREFIX", 20), TopTable.Column("NEXT HOP", 16), TopTable.Column("KERNEL", 6),
            TopTable.Column("STATUS", 20, flexible: true),
        ]
        let rows = snapshot.routes.filter { $0.peer == peer }.map { r in
            TopTable.Row(
                id: r.prefix, cells: [r.prefix, r.nextHop ?? "-", r.inKernel ? "✓" : "✗", r.status],
                tone: r.status == "ok" ? .normal : .bad, detail: ["\(r.prefix) via \(r.nextHop ?? "-"): \(r.status)"])
        }
        return TopTable(
            title: "BGP › routes from \(peer)", columns: columns, rows: rows, empty: "No route learned from \(peer)")
    }

    func healthTable() -> TopTable {
        let columns = [
            TopTable.Column("CHECK", 18), TopTable.Column("LAST SYNC", 9), TopTable.Column("DURATION", 8, priority: 1),
            TopTable.Column("P50", 7, priority: 3), TopTable.Column("P99", 7, priority: 2),
            TopTable.Column("SYNCS", 6, priority: 1, numeric: true),
            TopTable.Column("ERRORS", 6, priority: 1, numeric: true), TopTable.Column("STATE", 24, flexible: true),
        ]
        var rows: [TopTable.Row] = []
        for c in snapshot.controllers {
            let age = c.lastSync.map { now.timeIntervalSince($0) }
            let state = c.problems.first ?? "ok"
            rows.append(
                TopTable.Row(
                    id: "controller/" + c.name,
                    cells: [
                        c.name, age.map { TopText.age($0) + " ago" } ?? "-", TopText.duration(c.duration),
                        TopText.duration(c.p50), TopText.duration(c.p99), "\(c.syncs)", "\(c.errors)", state,
                    ],
                    sort: [
                        .text(c.name), .number(age ?? -1), .number(c.duration ?? -1), .number(c.p50 ?? -1),
                        .number(c.p99 ?? -1), .number(Double(c.syncs)), .number(Double(c.errors)), .text(state),
                    ], tone: c.problems.isEmpty && c.errors == 0 ? .normal : .warn,
                    detail: [
                        "\(c.name): \(c.syncs) syncs, last \(c.lastSyncFull == true ? "full" : "incremental")"
                            + (c.pid.map { ", pid \($0)" } ?? ""),
                        c.problems.isEmpty ? "no problem" : c.problems.joined(separator: "; "),
                    ]))
        }
        if let agent = snapshot.agent {
            for (name, ok) in [("readiness", agent.ready), ("liveness", agent.live)] {
                let reasons = name == "readiness" ? agent.reasons : []
                let state =
                    ok.map { $0 ? "ok" : "FAILED" + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; ")) }
                    ?? "unknown"
                rows.append(
                    TopTable.Row(
                        id: "probe/" + name, cells: [name, "", "", "", "", "", "", state],
                        tone: ok == false ? .bad : .normal, detail: [state]))
            }
        }
        // The API watches, from the agent's metrics.
        for w in snapshot.watches ?? [] {
            let rate = w.eventsPerSecond.map { "\(TopText.amount($0)) events/s" } ?? "\(Int(w.events)) events"
            let relists =
                w.relists > 0
                ? ", \(Int(w.relists)) relist\(w.relists == 1 ? "" : "s")"
                    + (w.relistReasons.isEmpty ? "" : " (\(w.relistReasons.joined(separator: ", ")))") : ""
            let state = (w.synced ? "synced, " : "NOT SYNCED (first list pending), ") + rate + relists
            rows.append(
                TopTable.Row(
                    id: "watch/" + w.resource, cells: ["watch " + w.resource, "", "", "", "", "", "", state],
                    tone: w.synced ? .normal : .warn,
                    detail: ["the agent's \(w.resource) informer (API watch): \(state)"]))
        }
        for f in snapshot.findings {
            rows.append(
                TopTable.Row(
                    id: "doctor/" + f.id,
                    cells: ["doctor " + f.id, "", "", "", "", "", "", "\(f.status): \(f.message)"],
                    tone: f.status == "FAIL" ? .bad : .warn, detail: ["\(f.status) \(f.id)", f.message]))
        }
        for s in snapshot.sources {
            rows.append(
                TopTable.Row(
                    id: "source/" + s.name,
                    cells: ["source " + s.name, "", "", "", "", "", "", "\(s.state.rawValue): \(s.message)"],
                    tone: s.state == .unreachable ? .bad : .dim, detail: [s.message]))
        }
        // krctl top's own cost: what reading each source took this tick (CPU).
        if let costs = snapshot.collection, !costs.isEmpty {
            let total = costs.values.reduce(0, +)
            let parts = costs.sorted { $0.value > $1.value }.map { "\($0.key) \(String(format: "%.1f", $0.value))ms" }
            let every = snapshot.countersEvery.map { "firewall counters every \(TopText.interval($0)); " } ?? ""
            let state = every + "CPU per tick: " + parts.prefix(3).joined(separator: ", ")
            rows.append(
                TopTable.Row(
                    id: "krctl/collection",
                    cells: ["krctl top", "", TopText.duration(total / 1000), "", "", "", "", state],
                    tone: .dim,
                    detail: [
                        "krctl top's collection this tick, CPU by source: " + parts.joined(separator: ", "),
                        snapshot.countersEvery.map {
                            "the firewall's counters are read every \(TopText.interval($0)) (reading them at every "
                                + "tick would cost more than krctl top's budget); their rates are over that time"
                        } ?? "",
                    ]))
        }
        return TopTable(
            title: "Health", columns: columns, rows: rows, empty: "No status file of the agent", drillable: true)
    }

    func controllerTable(_ id: String) -> TopTable {
        let lines: [String]
        if let c = snapshot.controllers.first(where: { "controller/" + $0.name == id }) {
            lines =
                [
                    "\(c.name): \(c.syncs) syncs, \(c.errors) errors",
                    "last sync: \(c.lastSync.map { Timestamp.string($0) } ?? "-")",
                ]
                + c.problems
        } else {
            lines = table(.health).rows.first { $0.id == id }?.detail ?? []
        }
        return TopTable(
            title: "Health › \(id)", columns: [TopTable.Column("DETAIL", 60, flexible: true)],
            rows: lines.enumerated().map { TopTable.Row(id: "\($0.offset)", cells: [$0.element]) }, empty: "")
    }

    // MARK: Overview, header, focus

    public var tiles: [Tile] {
        let s = snapshot
        let noEndpoints = s.services.filter { $0.state == .noEndpoints }.count
        let connections = s.services.compactMap(\.rates?.connections).reduce(0, +)
        let protected = Set(s.pods.map(\.pod)).count
        let topPod = Dictionary(grouping: s.pods, by: \.pod).mapValues {
            $0.compactMap(\.refusedPerSecond).reduce(0, +)
        }
        .filter { $0.value > 0 }.max { $0.value < $1.value }
        let prefixesIn = s.peers.reduce(0) { $0 + $1.accepted }
        let prefixesOut = s.peers.reduce(0) { $0 + $1.advertised }
        let flaps = s.peers.reduce(0) { $0 + $1.flaps }
        let installed = s.routes.filter(\.inKernel).count
        let missing = s.routes.filter { $0.status == "missing in kernel" }.count
        let syncs = s.controllers.reduce(0) { $0 + $1.syncs }
        let errors = s.controllers.reduce(0) { $0 + $1.errors }
        let ct = s.conntrack
        return [
            Tile(
                title: "Services",
                lines: ipvsNote.map { [$0] }
                    ?? [
                        "\(s.services.count) virtual, \(noEndpoints) without endpoints",
                        "\(TopText.amount(connections)) conn/s",
                    ],
                series: history.series(.connections), tone: noEndpoints > 0 ? .warn : .normal),
            Tile(
                title: "Policy",
                lines: [
                    "\(protected) pods protected, \(TopText.amount(s.dropsPerSecond)) drops/s",
                    "top: " + (topPod.map { "\($0.key) \(TopText.amount($0.value))/s" } ?? "-"),
                ], series: history.series(.drops), tone: (s.dropsPerSecond ?? 0) > 0 ? .warn : .normal),
            Tile(
                title: "BGP",
                lines: [
                    "\(s.peersEstablished)/\(s.peers.count) up, \(flaps) flaps",
                    "prefixes in \(prefixesIn), out \(prefixesOut)",
                ], series: history.series(.peers), tone: s.peersEstablished < s.peers.count ? .bad : .normal),
            Tile(
                title: "Routes",
                lines: ["expected \(s.routes.count), installed \(installed)", "missing \(missing)"],
                series: history.series(.routesMissing), tone: missing > 0 ? .bad : .normal),
            Tile(
                title: "Conntrack",
                lines: [
                    "\(ct?.count.map(String.init) ?? "-")/\(ct?.max.map(String.init) ?? "-") entries",
                    "insert fail \(TopText.amount(ct?.insertFailedPerSecond))/s, "
                        + "invalid \(TopText.amount(ct?.invalidPerSecond))/s",
                ], series: history.series(.conntrack), tone: .normal),
            Tile(
                title: "Agent",
                lines: [
                    "\(syncs) syncs, \(errors) errors",
                    s.agent.map { a in
                        "ready \(Self.yesNo(a.ready)), live \(Self.yesNo(a.live))"
                    } ?? "health endpoint not read",
                ], series: history.series(.syncs), tone: s.agent?.ready == false ? .bad : .normal),
        ]
    }

    /// The header's figures, most important first.
    public var headerFields: [(String, TopTable.Tone)] {
        let s = snapshot
        var fields: [(String, TopTable.Tone)] = [(s.node, .normal)]
        if let a = s.agent {
            fields.append((a.ready == true ? "ready" : "NOT READY", a.ready == true ? .good : .bad))
            fields.append((a.live == false ? "NOT LIVE" : "live", a.live == false ? .bad : .good))
        } else {
            fields.append(("agent ?", .warn))
        }
        fields.append(
            ("BGP \(s.peersEstablished)/\(s.peers.count)", s.peersEstablished < s.peers.count ? .bad : .normal))
        fields.append(("drops \(TopText.amount(s.dropsPerSecond))/s", (s.dropsPerSecond ?? 0) > 0 ? .warn : .normal))
        if let ct = s.conntrack, let count = ct.count {
            fields.append(("ct \(count)\(ct.max.map { "/\($0)" } ?? "")", .normal))
        }
        return fields
    }

    /// Each controller's last sync age and duration.
    public var syncFields: [String] {
        snapshot.controllers.map { c in
            let short = ["firewall": "fw", "service-proxy": "svc", "router": "bgp"][c.name] ?? c.name
            return "\(short) \(TopText.age(c.lastSync.map { now.timeIntervalSince($0) }))"
                + (c.duration.map { "/\(TopText.duration($0))" } ?? "")
        }
    }

    /// The focus mode's path: VIP → IPVS → endpoints → route → policy at the endpoint, with counters.
    public var focusPath: [String] {
        guard let focus else { return [] }
        switch focus {
        case .service:
            let services = snapshot.services.filter(concerns(service:))
            guard let s = services.first else { return ["\(focus.name): no virtual service in the IPVS table"] }
            let pods = s.servers.compactMap(\.pod)
            let refused = snapshot.pods.filter { pods.contains($0.pod) }.compactMap(\.refusedPerSecond).reduce(0, +)
            // The routes to the endpoints, alike ones counted once.
            var routes: [(String, Int)] = []
            for server in s.servers {
                let hop = route(to: server.address, node: server.node)
                if let i = routes.firstIndex(where: { $0.0 == hop }) {
                    routes[i].1 += 1
                } else {
                    routes.append((hop, 1))
                }
            }
            let routeText =
                routes.isEmpty
                ? "" : routes.map { $0.1 > 1 ? "\($0.0) ×\($0.1)" : $0.0 }.joined(separator: ", ") + " → "
            return [
                "\(s.key) \(TopText.amount(s.rates?.connections)) conn/s → IPVS \(s.scheduler) → "
                    + "\(s.ready)/\(s.servers.count) endpoints \(s.state.rawValue) → \(routeText)"
                    + "policy at endpoints: \(TopText.amount(refused)) refused/s"
            ]
        case .pod(let pod):
            let services = snapshot.services.filter(concerns(service:))
            let directions = snapshot.pods.filter { $0.pod == pod }
            let verdict =
                directions.isEmpty
                ? "not isolated (all allowed)"
                : directions.map { "\($0.direction) \(TopText.amount($0.refusedPerSecond)) refused/s" }.joined(
                    separator: ", ")
            // Where the pod is: an endpoint of a service names its address and node; a pod chain here is local.
            let server = snapshot.services.lazy.flatMap(\.servers).first { $0.pod == pod }
            let hop =
                server.map { route(to: $0.address, node: $0.node) }
                ?? (directions.isEmpty ? "route unknown (neither an endpoint nor isolated here)" : "local bridge")
            return [
                "\(services.count) service\(services.count == 1 ? "" : "s") → \(hop) → \(pod): \(verdict)"
            ]
        }
    }

    /// How this node reaches an endpoint (`address` with or without its port) on `node`: the local bridge for
    /// this node's pods, else the most specific BGP route that covers it, its next hop and whether the kernel
    /// holds it.
    public func route(to address: String, node: String?) -> String {
        if node == snapshot.node { return "local bridge" }
        let host: Substring =
            address.hasPrefix("[")
            ? address.dropFirst().prefix { $0 != "]" }
            : address.filter { $0 == ":" }.count == 1 ? address.prefix { $0 != ":" } : Substring(address)
        guard let ip = IPAddress(host) else { return "route ?" }
        let covering = snapshot.routes.compactMap { r in CIDR(r.prefix).map { ($0, r) } }
            .filter { $0.0.contains(ip) }.max { $0.0.prefixLength < $1.0.prefixLength }
        guard let (prefix, r) = covering else {
            return "no BGP route to \(host)" + (node.map { " (on \($0))" } ?? "")
        }
        return "via \(r.nextHop ?? "?") (BGP \(prefix), \(r.inKernel ? "in the kernel" : "NOT in the kernel"))"
    }

    // MARK: e and c

    /// What `e` shows for the selected row.
    public func explain(_ pane: TopPane, _ id: String) -> [String] {
        switch pane {
        case .drops: return snapshot.drops.first { Self.dropID($0) == id }.map(explanation) ?? []
        default:
            return table(pane).rows.first { $0.id == id }?.detail ?? []
        }
    }

    /// What `c` shows: the command that shows the same from a shell.
    public func command(_ pane: TopPane, _ id: String?) -> String {
        switch pane {
        case .overview: return "krctl top --once -o table"
        case .services:
            guard let id, let s = snapshot.services.first(where: { $0.key == id }) else { return "krctl ipvs" }
            let parts = s.key.split(separator: " ")
            let flag = parts.first == "UDP" ? "-u" : parts.first == "SCTP" ? "--sctp-service" : "-t"
            return "ipvsadm -Ln \(flag) \(parts.last ?? "") --stats"
        case .policy:
            guard let id, let p = snapshot.pods.first(where: { $0.id == id }) else { return "krctl policy check" }
            return "iptables -nvxL \(p.chain)  # or: krctl policy check \(p.pod)"
        case .drops:
            guard let id, let d = snapshot.drops.first(where: { Self.dropID($0) == id }), let pod = d.pod else {
                return "krctl drops --since 10s"
            }
            return "krctl drops --pod \(pod) --suggest"
        case .bgp: return id.map { "krctl bgp routes  # peer \($0)" } ?? "krctl bgp peers"
        case .health: return "krctl doctor"
        }
    }

    static func yesNo(_ value: Bool?) -> String { value.map { $0 ? "yes" : "NO" } ?? "?" }

    public static let help = [
        "1-6 Tab Left Right  switch panes", "Up Down j k PgUp PgDn g G  move", "Enter  drill in      Esc  back",
        "/  filter (substring; !text inverts)", "s  sort by the next column   I  invert the sort",
        "space  pause the display (collection goes on)", "+ -  interval", "e  explain the selection",
        "c  the equivalent command", "?  this help   q  quit",
    ]
}
