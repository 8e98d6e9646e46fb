import Foundation
import Testing

@testable import Kernel
@testable import KubeModel
@testable import Planning

/// libiptc against the real kernel, inside a throw-away network namespace so the host's firewall is
/// never touched.
@Suite(.serialized, .enabled(if: Kernel.available, Comment(rawValue: Kernel.reason)))
struct IPTablesKernelTests {
    static let cluster = """
        ---
        kind: Namespace
        metadata: {name: shop, labels: {team: shop}}
        ---
        kind: Pod
        metadata: {name: api, namespace: shop, labels: {app: api}}
        spec: {nodeName: n1, containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
        status: {podIP: 10.244.1.10}
        ---
        kind: Pod
        metadata: {name: web, namespace: shop, labels: {app: web}}
        spec: {nodeName: n1, containers: [{name: c}]}
        status: {podIP: 10.244.1.11}
        ---
        kind: NetworkPolicy
        metadata: {name: api, namespace: shop}
        spec:
          podSelector: {matchLabels: {app: api}}
          policyTypes: [Ingress, Egress]
          ingress:
          - from: [{podSelector: {matchLabels: {app: web}}}, {ipBlock: {cidr: 192.0.2.0/24, except: [192.0.2.128/25]}}]
            ports: [{port: http}, {port: 9000, endPort: 9100}, {protocol: UDP, port: 53}, {protocol: SCTP, port: 5000}]
          egress:
          - ports: [{protocol: UDP, port: 53}]
        """

    /// The cluster with IPv6 addresses in place of the IPv4 ones.
    static func cluster(_ family: IPAddress.Family) -> String {
        guard family == .ipv6 else { return cluster }
        return cluster.replacingOccurrences(of: "10.244.1.", with: "\"fd00:244:1::")
            .replacingOccurrences(of: "podIP: \"fd00:244:1::10}", with: "podIP: \"fd00:244:1::10\"}")
            .replacingOccurrences(of: "podIP: \"fd00:244:1::11}", with: "podIP: \"fd00:244:1::11\"}")
            .replacingOccurrences(of: "192.0.2.0/24", with: "\"2001:db8::/64\"").replacingOccurrences(
                of: "192.0.2.128/25", with: "\"2001:db8::/65\"")
    }

    func plan(_ yaml: String, _ family: IPAddress.Family = .ipv4) throws -> FirewallPlan {
        var reader = ObjectReader()
        for doc in try JSONValue.parseYAMLDocuments(yaml) { reader.read(doc, source: "test") }
        #expect(reader.errors.isEmpty, "\(reader.errors)")
        return FirewallPlanner(engine: PolicyEngine(ClusterSnapshot(reader.objects))).plan(node: "n1", family: family)
    }

    func withNamespace(_ body: (String) throws -> Void) throws {
        let name = "kr-ipt-\(UInt32.random(in: 0...UInt32.max))"
        #expect(Kernel.shell("ip netns add \(name)").0 == 0)
        defer { Kernel.shell("ip netns del \(name)") }
        try body(name)
    }

    @Test(arguments: [IPAddress.Family.ipv4, .ipv6])
    func commitReadBackAndCleanup(_ family: IPAddress.Family) throws {
        let planned = try plan(Self.cluster(family), family)
        #expect(planned.chains.count > 3 && planned.sets.allSatisfy { $0.family == family })
        let tool = family == .ipv6 ? "ip6tables-legacy" : "iptables-legacy"
        let other = family == .ipv6 ? "2001:db8:ffff::1" : "198.51.100.1"
        try withNamespace { ns in
            // Someone else's rule in FORWARD must survive everything we do.
            #expect(
                Kernel.shell("ip netns exec \(ns) \(tool) -A FORWARD -s \(other) -m comment --comment other -j DROP").0
                    == 0)

            let first = try NetworkNamespace.run(ns) { () -> IPTablesSync.Report in
                _ = try IPSetSync(session: try IPSetSession()).apply(planned.sets)
                return try IPTablesSync.apply(planned)
            }
            #expect(first.committed && first.chainsCreated == planned.chains.count)

            // Read back through the same codec: exactly the plan.
            let actual = try NetworkNamespace.run(ns) { IPTablesSync.read(try IPTablesTable("filter", family: family)) }
            for chain in planned.chains {
                #expect(actual.chains[chain.name] == chain.rules, "chain \(chain.name) differs")
            }
            #expect(actual.hooks.count == 3)

            // iptables-legacy itself understands every rule we wrote.
            let (status, save) = Kernel.shell("ip netns exec \(ns) \(tool)-save -t filter")
            #expect(status == 0)
            #expect(
                save.contains("-A FORWARD -j KUBE-ROUTER-FORWARD")
                    || save.contains("-A FORWARD -m comment --comment \"kube-router netpol\" -j KUBE-ROUTER-FORWARD"),
                "\(save)")
            #expect(save.contains("--ctstate RELATED,ESTABLISHED"))
            #expect(save.contains("-m addrtype --src-type LOCAL"))
            #expect(save.contains("-j NFLOG --nflog-prefix \"kube-router deny ingress KUBE-POD-FW-"))
            #expect(
                save.contains(
                    family == .ipv6
                        ? "-j REJECT --reject-with icmp6-port-unreachable"
                        : "-j REJECT --reject-with icmp-port-unreachable"))
            #expect(save.contains("-m set --match-set KUBE-DST-") && save.contains(" dst,dst"))
            #expect(save.contains("-p tcp -m") && save.contains("--dport 9000:9100"))
            #expect(save.contains("-p sctp -m") && save.contains("--dport 5000"))
            #expect(save.contains("-m mark ! --mark 0x10000/0x10000"))
            #expect(save.contains("-j MARK --set-xmark 0x10000/0x10000"))
            #expect(save.contains("--comment \"shop/api ingress rule 0\""))
            #expect(save.contains("--comment other -j DROP"))
            let forwardLines = save.split(separator: "\n").filter { $0.hasPrefix("-A FORWARD") }
            #expect(forwardLines.first?.contains("KUBE-ROUTER-FORWARD") == true, "our hook is first: \(forwardLines)")

            // The same plan again: nothing to commit.
            #expect(try NetworkNamespace.run(ns) { try IPTablesSync.apply(planned) }.committed == false)

            // The policy goes: its chains go, the other rule stays.
            let smaller = try plan(Self.cluster(family).components(separatedBy: "---\nkind: NetworkPolicy")[0], family)
            let second = try NetworkNamespace.run(ns) { try IPTablesSync.apply(smaller) }
            #expect(second.committed && second.chainsDeleted > 0)
            let after = Kernel.shell("ip netns exec \(ns) \(tool)-save -t filter").1
            #expect(!after.contains("KUBE-NWPLCY-") && !after.contains("KUBE-POD-FW-"))
            #expect(after.contains("--comment other -j DROP"))

            // Cleanup removes all of ours and only ours.
            _ = try NetworkNamespace.run(ns) { () -> Int in
                _ = try IPTablesSync.cleanup(family: family)
                return try IPSetSync(session: try IPSetSession()).removeStale(keeping: []).count
            }
            let clean = Kernel.shell("ip netns exec \(ns) \(tool)-save -t filter").1
            #expect(!clean.contains("KUBE-"))
            #expect(clean.contains("--comment other -j DROP"))
            #expect(!Kernel.shell("ip netns exec \(ns) ipset list -n").1.contains("KUBE-"))
        }
    }

    /// `krctl top`'s reader: every tick reads every counter, but decodes a chain's rules again only when the
    /// chain changed; a counter that moved is read without decoding anything.
    @Test(arguments: [IPAddress.Family.ipv4, .ipv6])
    func ruleCounterReaderDecodesOnlyWhatChanged(_ family: IPAddress.Family) throws {
        let planned = try plan(Self.cluster(family), family)
        let tool = family == .ipv6 ? "ip6tables-legacy" : "iptables-legacy"
        try withNamespace { ns in
            try NetworkNamespace.run(ns) {
                _ = try IPSetSync(session: try IPSetSession()).apply(planned.sets)
                _ = try IPTablesSync.apply(planned)
            }
            let reader = RuleCounterReader(family: family)
            let first = try NetworkNamespace.run(ns) { try reader.read() }
            #expect(reader.decodedChains == first.count)
            let ours = Set(planned.chains.map(\.name))
            #expect(ours.isSubset(of: Set(first.keys)), "\(first.keys.sorted())")
            for chain in planned.chains {
                #expect(first[chain.name]?.rules == chain.rules, "\(chain.name)")
                #expect(first[chain.name]?.packets == Array(repeating: 0, count: chain.rules.count))
            }

            // Nothing changed: nothing decoded, the same generations.
            let second = try NetworkNamespace.run(ns) { try reader.read() }
            #expect(reader.decodedChains == 0)
            #expect(second.mapValues(\.generation) == first.mapValues(\.generation))

            // Only a counter changed (set through a commit, as traffic would): read, not decoded.
            let pod = try #require(planned.chains.first { $0.name.hasPrefix("KUBE-POD-FW-") })
            try NetworkNamespace.run(ns) {
                let table = try IPTablesTable("filter", family: family)
                try table.setCounters(chain: pod.name, position: 0, packets: 7, bytes: 700)
                try table.commit()
            }
            let third = try NetworkNamespace.run(ns) { try reader.read() }
            #expect(reader.decodedChains == 0)
            #expect(third[pod.name]?.packets.first == 7 && third[pod.name]?.bytes.first == 700)
            #expect(third[pod.name]?.generation == first[pod.name]?.generation)

            // A rule went: that chain is decoded again, with a new generation and its rules as the kernel has them.
            #expect(Kernel.shell("ip netns exec \(ns) \(tool) -D \(pod.name) \(pod.rules.count)").0 == 0)
            let fourth = try NetworkNamespace.run(ns) { try reader.read() }
            #expect(reader.decodedChains >= 1 && reader.decodedChains < first.count)
            #expect(fourth[pod.name]?.rules == Array(pod.rules.dropLast()))
            #expect(fourth[pod.name]?.generation != first[pod.name]?.generation)
            #expect(fourth[pod.name]?.packets.first == 7)
        }
    }
}

/// The fingerprint of an entry ignores what the kernel never writes: the counters, and the bytes after the
/// NUL of each match's and target's name (libiptc's buffer is not zeroed: they differ from read to read).
@Suite struct RuleFingerprintTests {
    /// An entry: a 112-byte header, one 40-byte match named `match`, a 40-byte target named `target`.
    static func entry(match: String, target: String, data: UInt8, garbage: UInt8, packets: UInt8) -> [UInt8] {
        let header = 112
        var bytes = [UInt8](repeating: 0, count: header + 40 + 40)
        bytes[96] = packets  // the packet counter (ipt_entry: ip 84, nfcache 4, offsets 2 + 2, comefrom 4)
        func put(_ name: String, at start: Int) {
            bytes[start] = 40
            for i in 0..<29 { bytes[start + 2 + i] = garbage }
            for (i, c) in name.utf8.enumerated() { bytes[start + 2 + i] = c }
            bytes[start + 2 + name.utf8.count] = 0
            bytes[start + 32] = data
        }
        put(match, at: header)
        put(target, at: header + 40)
        return bytes
    }

    func normalized(_ bytes: [UInt8]) -> [UInt8] {
        var scratch: [UInt8] = []
        bytes.withUnsafeBytes {
            IPTablesTable.normalized(
                $0.baseAddress!, header: 112, counters: 96, target: 152, size: bytes.count, into: &scratch)
        }
        return scratch
    }

    @Test func onlyWhatTheRuleIsCounts() {
        let a = Self.entry(match: "set", target: "", data: 1, garbage: 0, packets: 0)
        let b = Self.entry(match: "set", target: "", data: 1, garbage: 0x4B, packets: 9)
        #expect(a != b)
        #expect(normalized(a) == normalized(b))
        #expect(normalized(a) != normalized(Self.entry(match: "set", target: "", data: 2, garbage: 0, packets: 0)))
        #expect(normalized(a) != normalized(Self.entry(match: "mark", target: "", data: 1, garbage: 0, packets: 0)))
        #expect(
            normalized(a) != normalized(Self.entry(match: "set", target: "REJECT", data: 1, garbage: 0, packets: 0)))
    }
}
