import Foundation
import Kernel
import KubeAPI
import KubeModel
import Planning
import Speaker

#if canImport(Glibc)
import Glibc
#endif

/// What the agent exports at `/metrics` (docs/metrics.md lists every family): sync observations pushed
/// by the controllers' monitors as they happen, everything else read at scrape time.
final class AgentMetrics: Sendable {
    let registry = MetricsRegistry()

    static let syncBuckets: [Double] = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
    ]

    init(version: String) {
        registry.gauge(.buildInfo, [("version", version), ("swift_version", Self.swiftVersion)], value: 1)
        registry.addCollector { [registry] in Self.collectProcess(registry) }
    }

    static var swiftVersion: String {
        #if compiler(>=6.3)
        "6.3"
        #elseif compiler(>=6.2)
        "6.2"
        #elseif compiler(>=6.1)
        "6.1"
        #else
        "6.0"
        #endif
    }

    func render() -> [UInt8] { registry.render() }

    // MARK: Controllers

    /// Every sync of the monitor's controller is observed as it ends.
    func observe(_ monitor: SyncMonitor) {
        let controller = monitor.controller
        let duration = registry.histogram(.syncDuration, [("controller", controller)], buckets: Self.syncBuckets)
        let latency = registry.histogram(.eventToKernel, [("controller", controller)], buckets: Self.syncBuckets)
        let registry = self.registry
        // The families exist from the start, so a scrape before the first sync shows them at zero.
        for kind in ["full", "incremental"] {
            for result in ["success", "failure"] {
                _ = registry.counter(.syncs, [("controller", controller), ("kind", kind), ("result", result)])
            }
        }
        _ = registry.counter(.driftRepairs, [("controller", controller)])
        monitor.observe { sync in
            duration.record(sync.seconds)
            for phase in sync.phases {
                registry.histogram(
                    .syncPhaseDuration, [("controller", controller), ("phase", phase.name)], buckets: Self.syncBuckets
                ).record(phase.seconds)
            }
            registry.counter(
                .syncs,
                [
                    ("controller", controller), ("kind", sync.full ? "full" : "incremental"),
                    ("result", sync.succeeded ? "success" : "failure"),
                ]
            ).increment()
            if let eventLatency = sync.eventLatency { latency.record(eventLatency) }
        }
        registry.addCollector {
            let state = monitor.snapshot
            registry.gauge(
                .lastSuccess, [("controller", controller)], value: state.lastSuccess?.timeIntervalSince1970 ?? 0)
            registry.mirror(.driftRepairs, [("controller", controller)], value: Double(state.driftRepairs))
        }
    }

    func addHealth(_ health: AgentHealth) {
        registry.addCollector { [registry] in
            registry.gauge(.ready, value: health.readiness().ok ? 1 : 0)
        }
    }

    /// One series per check and status: 1 for the check's current status, 0 for the others.
    func addNodeChecks(_ checks: NodeChecks) {
        registry.addCollector { [registry] in
            guard let report = checks.latest else { return }
            for check in report.checks {
                for status in DoctorCheck.Status.allCases {
                    registry.gauge(
                        .nodeCheck, [("check", check.id), ("status", status.rawValue)],
                        value: check.status == status ? 1 : 0, transient: true)
                }
            }
        }
    }

    func addInformers(_ informers: Informers) {
        registry.addCollector { [registry] in
            for (resource, reflector) in informers.reflectors {
                registry.gauge(.informerSynced, [("resource", resource.plural)], value: reflector.hasSynced ? 1 : 0)
            }
            let statistics = informers.client.statistics
            for (key, count) in statistics.requests {
                registry.mirror(.apiRequests, [("verb", key.verb), ("code", key.code)], value: Double(count))
            }
            for (key, count) in statistics.watchEvents {
                registry.mirror(.watchEvents, [("resource", key.resource), ("type", key.type)], value: Double(count))
            }
            for resource in informers.reflectors.keys {
                for reason in APIStatistics.RelistReason.allCases {
                    let count = statistics.relists[.init(resource: resource.plural, reason: reason)] ?? 0
                    registry.mirror(
                        .relists, [("resource", resource.plural), ("reason", reason.rawValue)], value: Double(count))
                }
            }
        }
    }

    func addFirewall(_ firewall: FirewallController) {
        registry.addCollector { [registry] in
            let counts = firewall.counts
            registry.gauge(.firewallChains, value: Double(counts.chains))
            registry.gauge(.firewallRules, value: Double(counts.rules))
            registry.gauge(.firewallSets, value: Double(counts.sets))
            registry.gauge(.firewallSetEntries, value: Double(counts.setEntries))
            registry.gauge(.firewallProtectedPods, value: Double(counts.protectedPods))
            // The REJECT rules' counters of the pods' chains: every packet a policy refused, not only the
            // rate-limited NFLOG samples.
            for family in [IPAddress.Family.ipv4, .ipv6] {
                guard let table = try? IPTablesTable("filter", family: family) else { continue }
                var packets: UInt64 = 0
                for chain in table.chains() where chain.hasPrefix(FirewallNames.podChainPrefix) {
                    for (rule, counters) in table.rulesWithCounters(chain) where rule.target == .reject {
                        packets += counters.packets
                    }
                }
                registry.mirror(.firewallRejectedPackets, [("family", family.rawValue)], value: Double(packets))
            }
        }
    }

    /// `kernel`: the IPVS table, read at scrape time for the per-service counters (nil: not readable).
    func addServiceProxy(_ proxy: ServiceProxyController, kernel: @escaping @Sendable () -> (any IPVSBackend)?) {
        registry.addCollector { [registry] in
            let planned = proxy.appliedServices
            registry.gauge(.ipvsServices, value: Double(planned.count))
            registry.gauge(.ipvsRealServers, value: Double(planned.reduce(0) { $0 + $1.destinations.count }))
            registry.gauge(
                .ipvsDraining,
                value: Double(planned.reduce(0) { $0 + $1.destinations.filter { $0.weight == 0 }.count }))
            guard let ipvs = kernel(), let live = try? ipvs.services() else { return }
            var byKey: [String: IPVSService] = [:]
            for service in live { byKey[service.key] = service }
            for p in planned {
                guard let stats = byKey[p.service.key]?.stats else { continue }
                let labels = [
                    ("namespace", p.namespace), ("service", p.serviceName), ("protocol", p.service.proto.rawValue),
                    ("port", String(p.service.port)), ("address_type", p.kind.rawValue),
                ]
                registry.mirror(.serviceConnections, labels, value: Double(stats.connections), transient: true)
                registry.mirror(.servicePacketsIn, labels, value: Double(stats.packetsIn), transient: true)
                registry.mirror(.servicePacketsOut, labels, value: Double(stats.packetsOut), transient: true)
                registry.mirror(.serviceBytesIn, labels, value: Double(stats.bytesIn), transient: true)
                registry.mirror(.serviceBytesOut, labels, value: Double(stats.bytesOut), transient: true)
            }
        }
    }

    func addRouter(_ router: RouterController) {
        registry.addCollector { [registry] in
            guard let bgp = router.bgpSnapshot() else { return }
            var byState: [String: Int] = [:]
            for type in ["internal", "external"] {
                for state in ["Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established"] {
                    byState["\(type)/\(state)"] = 0
                }
            }
            for peer in bgp.peers {
                let type = peer.asn == bgp.asn ? "internal" : "external"
                byState["\(type)/\(peer.state)", default: 0] += 1
                let one = [("peer", peer.address)]
                registry.gauge(.bgpPrefixesReceived, one, value: Double(peer.prefixesReceived), transient: true)
                registry.gauge(.bgpPrefixesAdvertised, one, value: Double(peer.prefixesAdvertised), transient: true)
                registry.mirror(.bgpUpdatesReceived, one, value: Double(peer.updatesReceived ?? 0), transient: true)
                registry.mirror(.bgpUpdatesSent, one, value: Double(peer.updatesSent ?? 0), transient: true)
                registry.mirror(
                    .bgpNotifications, one + [("direction", "received")],
                    value: Double(peer.notificationsReceived ?? 0), transient: true)
                registry.mirror(
                    .bgpNotifications, one + [("direction", "sent")], value: Double(peer.notificationsSent ?? 0),
                    transient: true)
                if type == "external" {
                    let labels = one + [("asn", String(peer.asn))]
                    registry.gauge(.bgpPeerUp, labels, value: peer.state == "Established" ? 1 : 0, transient: true)
                    registry.mirror(
                        .bgpPeerTransitions, labels, value: Double(peer.establishedTransitions ?? 0), transient: true)
                }
            }
            for (key, count) in byState {
                let parts = key.split(separator: "/").map(String.init)
                registry.gauge(.bgpPeers, [("type", parts[0]), ("state", parts[1])], value: Double(count))
            }
            registry.gauge(.bgpRoutesInstalled, value: Double(bgp.routes.installed))
            registry.mirror(.bgpRouteChanges, value: Double(bgp.routes.changes))
            registry.mirror(.bgpRouteReinjections, value: Double(bgp.routes.reinjections))
        }
    }

    // MARK: Process

    /// The Prometheus client conventions' process metrics, from /proc/self.
    static func collectProcess(_ registry: MetricsRegistry) {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        {
            // After the command name: state is field 3; utime 14, stime 15, starttime 22, vsize 23, rss 24.
            let fields = stat[stat.index(after: close)...].split(separator: " ").map(String.init)
            func field(_ n: Int) -> Double { fields.count > n - 3 ? Double(fields[n - 3]) ?? 0 : 0 }
            registry.mirror(.processCPU, value: (field(14) + field(15)) / ticks)
            registry.gauge(.processVirtual, value: field(23))
            registry.gauge(.processResident, value: field(24) * page)
            if let boot = bootTime() { registry.gauge(.processStart, value: boot + field(22) / ticks) }
        }
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        registry.gauge(.processOpenFDs, value: Double(fds))
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            registry.gauge(.processMaxFDs, value: Double(limit.rlim_cur))
        }
    }

    private static func bootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
