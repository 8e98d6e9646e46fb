import Foundation
import Planning
import TopUI

/// A node's snapshots for krctl top's tests and demo (`examples/top-demo.jsonl`, `--replay`): services with and
/// without endpoints, isolated pods with growing REJECT counters, drops, an Established and a failing BGP peer,
/// a route missing from the kernel, and names with wide and control characters.
public enum TopSamples {
    public static let start = Date(timeIntervalSince1970: 1_767_268_800)  // 2026-01-01T12:00:00Z

    public static func snapshots(count: Int = 3) -> [TopSnapshot] {
        var list: [TopSnapshot] = []
        for i in 0..<count {
            let raw = snapshot(i)
            list.append(raw.rated(since: list.last))
        }
        return list
    }

    static func counters(_ base: Double, _ i: Int, _ step: Double) -> TopSnapshot.Counters {
        let c = base + Double(i) * step
        return TopSnapshot.Counters(
            connections: c, packetsIn: c * 10, packetsOut: c * 9, bytesIn: c * 1500, bytesOut: c * 900)
    }

    static func server(
        _ address: String, _ pod: String?, node: String?, weight: Int = 1, active: Int, _ base: Double, _ i: Int,
        _ step: Double
    ) -> TopSnapshot.Server {
        TopSnapshot.Server(
            address: address, pod: pod, node: node, weight: weight, active: active, inactive: active / 2,
            counters: counters(base, i, step))
    }

    public static func snapshot(_ i: Int) -> TopSnapshot {
        let time = start.addingTimeInterval(Double(i) * 2)
        var s = TopSnapshot(time: time, node: "node-a", interval: 2)
        s.agent = TopSnapshot.Agent(ready: true, live: true)
        s.controllers = [
            .init(
                name: "firewall", syncs: 120 + i, lastSync: time.addingTimeInterval(-3), lastSyncFull: false,
                duration: 0.018, p50: 0.012, p99: 0.090, pid: 4242),
            .init(
                name: "service-proxy", syncs: 80 + i, lastSync: time.addingTimeInterval(-2), duration: 0.007,
                p50: 0.006, p99: 0.040, pid: 4242),
            .init(
                name: "router", syncs: 40, lastSync: time.addingTimeInterval(-1), duration: 0.002,
                problems: ["peer 192.168.1.3: connection refused"], pid: 4242),
        ]
        s.services = [
            .init(
                key: "TCP 10.96.0.10:53", name: "kube-system/kube-dns:53/TCP", type: "clusterIP", scheduler: "rr",
                state: .ok, counters: counters(1000, i, 40),
                servers: [
                    server("10.244.0.5:53", "kube-system/coredns-a", node: "node-a", active: 2, 500, i, 20),
                    server("10.244.1.6:53", "kube-system/coredns-b", node: "node-b", active: 1, 500, i, 20),
                ]),
            .init(
                key: "TCP 10.96.12.7:80", name: "shop/web:80/TCP", type: "clusterIP", scheduler: "rr",
                flags: ["local"], state: .ok, counters: counters(5000, i, 300),
                servers: [
                    server("10.244.0.7:8080", "shop/web-1", node: "node-a", active: 12, 2000, i, 100),
                    server("10.244.0.8:8080", "shop/web-2", node: "node-a", active: 11, 2000, i, 100),
                    server("10.244.1.9:8080", "shop/web-3", node: "node-b", weight: 0, active: 0, 1000, i, 100),
                ]),
            .init(
                key: "TCP 10.96.40.2:8080", name: "shop/api:8080/TCP", type: "clusterIP", scheduler: "rr",
                state: .noEndpoints, counters: counters(12, i, 1), servers: []),
            .init(
                key: "TCP 192.168.1.10:30080", name: "shop/web:80/TCP", type: "nodePort", scheduler: "rr",
                persistenceSeconds: 10800, flags: ["hairpin"], state: .ok, counters: counters(300, i, 10),
                servers: [server("10.244.0.7:8080", "shop/web-1", node: "node-a", active: 1, 300, i, 10)]),
            .init(
                key: "TCP 10.96.77.1:80", name: "商店/目录:80/TCP", type: "clusterIP", scheduler: "wrr", state: .ok,
                counters: counters(50, i, 2),
                servers: [server("10.244.0.9:80", "商店/目录-0", node: "node-a", active: 0, 50, i, 2)]),
            .init(
                key: "TCP 10.96.66.6:80", name: "shop/evil\u{1B}[31m:80/TCP", type: "clusterIP", scheduler: "rr",
                state: .drift, counters: counters(0, i, 0), servers: []),
        ]
        s.pods = [
            .init(
                pod: "shop/api", direction: "ingress", family: "IPv4", chain: "KUBE-POD-FW-API", policies: ["shop/api"],
                refused: UInt64(30 + i * 10), allowed: UInt64(900 + i * 100),
                lastDrop: time.addingTimeInterval(-1),
                rules: [
                    .init(text: "ACCEPT ctstate RELATED,ESTABLISHED", packets: UInt64(800 + i * 90)),
                    .init(text: "→ KUBE-NWPLCY-API /* shop/api */", packets: UInt64(130 + i * 20)),
                    .init(text: "NFLOG 100 /* shop/api ingress */", packets: UInt64(30 + i * 10)),
                    .init(text: "REJECT /* shop/api ingress */", packets: UInt64(30 + i * 10)),
                ]),
            .init(
                pod: "shop/db", direction: "ingress", family: "IPv4", chain: "KUBE-POD-FW-DB",
                policies: ["shop/db-from-api"], refused: 5, allowed: UInt64(400 + i * 50)),
            .init(
                pod: "shop/db", direction: "egress", family: "IPv4", chain: "KUBE-POD-FW-DB", policies: [],
                refused: nil),
        ]
        s.drops = [
            Drop(
                time: start.addingTimeInterval(-5), cause: .policy, direction: "ingress", from: "shop/db",
                to: "shop/api",
                protocol: "TCP", port: 9000, pod: "shop/api", policies: ["shop/api"],
                reason: "no ingress rule of shop/api allows TCP/9000 from shop/db", kernelAgrees: true,
                chain: "KUBE-POD-FW-API"),
            Drop(
                time: start.addingTimeInterval(Double(i) * 2 - 1), cause: .policy, direction: "ingress",
                from: "10.0.0.99", to: "shop/db", protocol: "UDP", port: 53, pod: "shop/db",
                policies: ["shop/db-from-api"],
                reason: "no ingress rule of shop/db-from-api allows UDP/53 from 10.0.0.99",
                kernelAgrees: false, chain: "KUBE-POD-FW-DB", count: 3),
        ]
        s.suggestions = [
            s.drops[0].flowKey: """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: allow-from-db-tcp-9000
              namespace: shop
            spec:
              podSelector:
                matchLabels: {app: "api"}
              policyTypes: [Ingress]
              ingress:
              - from: [{podSelector: {matchLabels: {app: "db"}}}]
                ports: [{protocol: TCP, port: 9000}]
            """
        ]
        s.peers = [
            .init(
                address: "192.168.1.2", asn: 64512, type: "iBGP", state: "Established", since: "2h5m", received: 12,
                accepted: 12, advertised: 1, flaps: 0, lastError: nil),
            .init(
                address: "192.168.1.3", asn: 64513, type: "eBGP", state: "Active", since: nil, received: 0, accepted: 0,
                advertised: 0, flaps: 3, lastError: "connect: connection refused"),
        ]
        s.routes = [
            .init(prefix: "10.244.1.0/24", nextHop: "192.168.1.2", peer: "192.168.1.2", inKernel: true, status: "ok"),
            .init(
                prefix: "10.244.2.0/24", nextHop: "192.168.1.2", peer: "192.168.1.2", inKernel: false,
                status: "missing in kernel"),
        ]
        s.conntrack = .init(count: 1200 + i * 10, max: 262144, insertFailed: 2, invalid: UInt64(10 + i))
        s.findings = [.init(id: "cni-config", status: "WARN", message: "/etc/cni/net.d has no network configuration")]
        return s
    }
}
