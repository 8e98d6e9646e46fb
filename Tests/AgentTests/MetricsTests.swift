import Foundation
import Synchronization
import Testing

@testable import Agent

/// The metric families (names, types, labels, help) and what the registry writes, checked by `promtool
/// check metrics` when it is installed; and the HTTP listener's behaviour with hostile clients.
@Suite struct MetricsTests {
    @Test func familiesFollowPrometheusNaming() {
        let names = MetricFamily.all.map(\.name)
        #expect(Set(names).count == names.count, "no family twice")
        let valid = /^[a-z_][a-z0-9_]*$/
        for family in MetricFamily.all {
            #expect(family.name.wholeMatch(of: valid) != nil, "\(family.name)")
            #expect(!family.help.isEmpty && family.help.hasSuffix("."), "\(family.name): help")
            switch family.kind {
            case .counter: #expect(family.name.hasSuffix("_total"), "\(family.name): a counter ends in _total")
            case .gauge, .histogram: #expect(!family.name.hasSuffix("_total"), "\(family.name)")
            }
            if family.kind == .histogram { #expect(family.name.hasSuffix("_seconds"), "\(family.name): a unit") }
            for label in family.labels { #expect(label.wholeMatch(of: valid) != nil && !label.hasPrefix("__")) }
        }
    }

    @Test func docsListEveryFamily() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let docs = try String(contentsOf: root.appendingPathComponent("docs/metrics.md"), encoding: .utf8)
        for family in MetricFamily.all {
            #expect(docs.contains("| `\(family.name)` | \(family.kind.rawValue) |"), "docs/metrics.md: \(family.name)")
        }
    }

    /// The registry's text after a few syncs: every observed family present, transient series removed when
    /// their source goes, mirrored counters never decreasing.
    @Test func renderedTextIsValidExposition() throws {
        let metrics = AgentMetrics(version: "0.1.0")
        let monitor = SyncMonitor(controller: "firewall")
        metrics.observe(monitor)
        let start = Date()
        monitor.begin(full: true, at: start)
        monitor.phase("plan", .milliseconds(3))
        monitor.phase("iptables", .milliseconds(40))
        monitor.end(trigger: .initial, full: true, started: start, succeeded: true, pendingSince: nil)
        monitor.begin(full: false, at: start)
        monitor.end(
            trigger: .event, full: false, started: start, succeeded: true, pendingSince: start.addingTimeInterval(-0.02)
        )
        let registry = metrics.registry
        // What the kernel says at each scrape: service → its connections counter.
        let kernel = Mutex(["a": 10.0, "b": 5.0])
        registry.addCollector {
            for (service, value) in kernel.withLock({ $0 }) {
                registry.mirror(.serviceConnections, Self.labels(service), value: value, transient: true)
            }
        }
        var text = String(decoding: metrics.render(), as: UTF8.self)
        #expect(text.contains(#"kube_router_syncs_total{controller="firewall",kind="full",result="success"} 1"#))
        #expect(text.contains(#"kube_router_syncs_total{controller="firewall",kind="incremental",result="failure"} 0"#))
        #expect(
            text.contains(#"kube_router_sync_phase_duration_seconds_count{controller="firewall",phase="iptables"} 1"#))
        #expect(text.contains(#"kube_router_event_to_kernel_seconds_count{controller="firewall"} 1"#))
        #expect(
            text.contains(#"kube_router_sync_duration_seconds_bucket{controller="firewall",le="600.0"} 2"#), "\(text)")
        #expect(text.contains("# HELP process_resident_memory_bytes Resident memory size, in bytes."))
        #expect(text.contains(#"service="a""#) && text.contains(#"service="b""#))

        // Service b goes (not set in this scrape); a's kernel counter restarted at 3: the counter grows by 3.
        kernel.withLock { $0 = ["a": 3] }
        text = String(decoding: metrics.render(), as: UTF8.self)
        #expect(!text.contains(#"service="b""#), "a service that went takes its series along")
        #expect(text.contains(#"kube_router_service_connections_total{"# + Self.rendered("a") + "} 13"), "\(text)")

        if FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID()).txt")
            try text.write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "promtool check metrics < \(file.path) 2>&1"]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let report = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "promtool: \(report)\n\(text)")
        }
    }

    static func labels(_ service: String) -> [(String, String)] {
        [
            ("namespace", "shop"), ("service", service), ("protocol", "tcp"), ("port", "80"),
            ("address_type", "clusterIP"),
        ]
    }

    static func rendered(_ service: String) -> String {
        labels(service).map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",")
    }
}

/// The listener itself (port 0 on loopback): a half-sent request and a garbage stream hold connections
/// while `/livez` is answered; a large body is refused; an unknown path is a 404.
@Suite struct HTTPEndpointsTests {
    func curl(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-sS", "--max-time", "5"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "needs curl"))
    func hostileClientsDoNotHoldTheProbes() throws {
        let endpoints = AgentEndpoints()
        defer { endpoints.stop() }
        let slow = HTTPEndpoints.Route(path: "/metrics", slow: true) { _ in .text(.ok, "m 1\n") }
        let live = HTTPEndpoints.Route(path: "/livez", slow: false) { _ in .text(.ok, "ok") }
        try endpoints.listen(host: "127.0.0.1", port: 0, routes: [live, slow])
        let port = try #require(endpoints.ports.first)

        // Two connections that never finish a request.
        var held: [Int32] = []
        defer { held.forEach { close($0) } }
        for payload in ["GET /livez HTTP/1.1\r\nHost: x\r\n", String(repeating: "\u{1}\u{2}garbage", count: 200)] {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            #expect(connected == 0)
            _ = payload.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            held.append(fd)
        }
        for _ in 0..<3 { #expect(try curl(["http://127.0.0.1:\(port)/livez"]) == "ok") }
        #expect(try curl(["http://127.0.0.1:\(port)/metrics"]) == "m 1\n")
        #expect(try curl(["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/other"]) == "404")
        let body = String(repeating: "x", count: 64 * 1024)
        #expect(
            try curl(["-o", "/dev/null", "-w", "%{http_code}", "--data-binary", body, "http://127.0.0.1:\(port)/livez"])
                == "413")
    }
}
