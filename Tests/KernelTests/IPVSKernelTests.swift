import Foundation
import Testing

@testable import Kernel
@testable import KubeModel
@testable import Planning

enum IPVSKernel {
    /// Set by scripts/test when it runs this suite inside the VM: there, a missing IPVS is a failure.
    static let required = ProcessInfo.processInfo.environment["KR_REQUIRE_IPVS"] == "1"
    static let available = Kernel.available && (required || IPVSClient.isAvailable)
    static let reason = "IPVS is not in this kernel: scripts/test runs this suite in the VM (scripts/vm/run-in-vm)"
}

/// The IPVS client against the kernel's IPVS (in the VM), in a private network namespace; what it
/// writes is checked with ipvsadm.
@Suite(.serialized, .enabled(if: IPVSKernel.available, Comment(rawValue: IPVSKernel.reason)))
struct IPVSKernelTests {
    @Test func servicesAndRealServersRoundTrip() throws {
        let name = "kr-ipvs-\(UInt32.random(in: 0...UInt32.max))"
        #expect(Kernel.shell("ip netns add \(name)").0 == 0)
        defer { Kernel.shell("ip netns del \(name)") }
        // Without lo up the namespace has no local table, and IPVS takes every real server for a broadcast address.
        #expect(Kernel.shell("ip -n \(name) link set lo up").0 == 0)
        try NetworkNamespace.run(name) {
            let ipvs = try IPVSClient()
            #expect(try ipvs.services().isEmpty)
            let web = IPVSService(address: IPAddress("10.96.0.10")!, proto: .tcp, port: 80, scheduler: "rr")
            let dns = IPVSService(
                address: IPAddress("10.96.0.53")!, proto: .udp, port: 53, scheduler: "lc", persistent: true,
                timeout: 10800)
            let v6 = IPVSService(address: IPAddress("fd00:96::10")!, proto: .tcp, port: 443, scheduler: "sh")
            for service in [web, dns, v6] { try ipvs.add(service) }
            try ipvs.add(IPVSDestination(address: IPAddress("10.244.1.10")!, port: 8080), to: web)
            try ipvs.add(IPVSDestination(address: IPAddress("10.244.2.10")!, port: 8080, weight: 3), to: web)
            try ipvs.add(IPVSDestination(address: IPAddress("fd00:244::10")!, port: 8443), to: v6)
            let services = try ipvs.services()
            #expect(Set(services) == [web, dns, v6], "\(services)")
            #expect(
                services.first { $0 == dns }.map { $0.persistent && $0.timeout == 10800 && $0.scheduler == "lc" }
                    == true)
            #expect(
                Set(try ipvs.destinations(of: web).map(\.description)) == [
                    "10.244.1.10:8080 weight 1 masquerade", "10.244.2.10:8080 weight 3 masquerade",
                ])
            // A terminating endpoint is drained: weight 0, still there.
            try ipvs.update(IPVSDestination(address: IPAddress("10.244.2.10")!, port: 8080, weight: 0), in: web)
            #expect(
                try ipvs.destinations(of: web).first { $0.port == 8080 && $0.address == IPAddress("10.244.2.10") }?
                    .weight == 0)
            // ipvsadm reads what we wrote.
            let table = Kernel.shell("ipvsadm -Ln").1
            #expect(
                table.contains("TCP  10.96.0.10:80 rr") && table.contains("-> 10.244.1.10:8080")
                    && table.contains("UDP  10.96.0.53:53 lc persistent 10800"), "\(table)")
            #expect(table.contains("TCP  [fd00:96::10]:443 sh") && table.contains("-> [fd00:244::10]:8443"), "\(table)")
            // Errors name the object.
            #expect { try ipvs.add(web) } throws: { "\($0)".contains("add service TCP 10.96.0.10:80") }
            try ipvs.delete(IPVSDestination(address: IPAddress("10.244.1.10")!, port: 8080), from: web)
            try ipvs.delete(dns)
            #expect(Set(try ipvs.services()) == [web, v6])
            #expect(try ipvs.destinations(of: web).count == 1)
            // A firewall-mark service (what `-j MARK` feeds), keyed by its mark alone.
            let marked = IPVSService(address: IPAddress("0.0.0.0")!, proto: .tcp, port: 0, fwmark: 100, scheduler: "sh")
            try ipvs.add(marked)
            try ipvs.add(IPVSDestination(address: IPAddress("10.244.1.10")!, port: 0), to: marked)
            #expect(try ipvs.services().contains { $0.key == "fwmark 100" && $0.scheduler == "sh" })
            #expect(Kernel.shell("ipvsadm -Ln").1.contains("FWM  100 sh"))
            #expect(try ipvs.destinations(of: marked).map(\.address) == [IPAddress("10.244.1.10")!])
            try ipvs.delete(marked)
            // The connection timeouts, read and set (0 leaves one unchanged), as ipvsadm sees them.
            let before = try ipvs.timeouts()
            #expect(before.tcp > 0 && before.udp > 0)
            try ipvs.setTimeouts(IPVSTimeouts(tcp: 900, tcpFin: 120, udp: 0))
            #expect(try ipvs.timeouts() == IPVSTimeouts(tcp: 900, tcpFin: 120, udp: before.udp))
            #expect(Kernel.shell("ipvsadm -L --timeout").1.contains("Timeout (tcp tcpfin udp): 900 120 \(before.udp)"))
        }
    }

    /// The sync by difference: nothing to do costs nothing, one endpoint change costs one netlink call,
    /// the full sync repairs drift, and services we do not own are left alone.
    @Test func syncByDifference() throws {
        let name = "kr-ipvs-\(UInt32.random(in: 0...UInt32.max))"
        #expect(Kernel.shell("ip netns add \(name)").0 == 0)
        defer { Kernel.shell("ip netns del \(name)") }
        #expect(Kernel.shell("ip -n \(name) link set lo up").0 == 0)
        try NetworkNamespace.run(name) {
            let client = try IPVSClient()
            let foreign = IPVSService(address: IPAddress("10.50.0.1")!, proto: .tcp, port: 80, scheduler: "wlc")
            try client.add(foreign)
            func planned(_ ip: String, _ endpoints: [(String, Int32)]) -> PlannedVirtualService {
                PlannedVirtualService(
                    service: IPVSService(address: IPAddress(ip)!, proto: .tcp, port: 80),
                    destinations: endpoints.map {
                        IPVSDestination(address: IPAddress($0.0)!, port: 8080, weight: $0.1)
                    },
                    origin: "shop/\(ip):http", kind: .clusterIP)
            }
            let sync = IPVSSync(client: client)
            let first = [
                planned("10.96.0.1", [("10.244.1.10", 1), ("10.244.1.11", 1)]),
                planned("10.96.0.2", [("10.244.1.12", 1)]),
            ]
            var report = try sync.apply(first, previous: nil, owned: [])
            #expect(report.calls == 5 && report.errors.isEmpty, "\(report)")
            #expect(try sync.apply(first, previous: first, owned: []).calls == 0)
            #expect(try sync.apply(first, previous: nil, owned: []).calls == 0)
            // One endpoint terminating: one call.
            let second = [planned("10.96.0.1", [("10.244.1.10", 1), ("10.244.1.11", 0)]), first[1]]
            report = try sync.apply(second, previous: first, owned: [])
            #expect(report.calls == 1 && report.destinationsUpdated == 1, "\(report)")
            // Drift behind our back: the full sync puts it right.
            let web = first[0].service
            try client.delete(IPVSDestination(address: IPAddress("10.244.1.10")!, port: 8080), from: web)
            report = try sync.apply(second, previous: nil, owned: [])
            #expect(report.calls == 1 && report.destinationsAdded == 1, "\(report)")
            // A service we owned and no longer plan goes; the foreign one stays.
            report = try sync.apply([second[0]], previous: nil, owned: [first[1].service.key])
            #expect(report.servicesDeleted == 1, "\(report)")
            #expect(Set(try client.services().map(\.key)) == [web.key, foreign.key])
        }
    }
}
