import Foundation
import TestSupport
import Testing

@testable import KubeModel
@testable import Planning

/// Logged packets attributed through the plan: the prefix's denial names the pod and direction, the engine
/// the reason, the kernel walk whether the kernel agrees; suggestions allow exactly the flow.
@Suite struct DropAttributionTests {
    static let manifests =
        namespace("shop") + namespace("other", ["team": "other"])
        + pod("shop/web", "10.244.1.10", ["app": "web"], ports: "[{name: http, containerPort: 8080}]")
        + pod("shop/api", "10.244.1.11", ["app": "api"], ports: "[{name: http, containerPort: 9000}]")
        + pod("shop/db", "10.244.1.12", ["app": "db"], ports: "[{name: pg, containerPort: 5432}]")
        + pod("other/client", "10.244.2.10", ["app": "client"], node: "node-b")
        + policy(
            "shop/api",
            """
            podSelector: {matchLabels: {app: api}}
            ingress:
            - from: [{podSelector: {matchLabels: {app: web}}}]
              ports: [{port: http}]
            """)
        + policy(
            "shop/db",
            """
            podSelector: {matchLabels: {app: db}}
            policyTypes: [Ingress, Egress]
            """)

    let engine: PolicyEngine
    let plan: FirewallPlan

    init() throws {
        engine = try Cluster(Self.manifests).engine
        plan = FirewallPlanner(engine: engine).plan(node: "node-a", family: .ipv4)
    }

    /// An IPv4 packet with a TCP (6) or UDP (17) header.
    static func ipv4(_ source: String, _ destination: String, proto: UInt8 = 6, port: Int) -> [UInt8] {
        func bytes(_ ip: String) -> [UInt8] { ip.split(separator: ".").map { UInt8($0)! } }
        var header: [UInt8] = [0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, proto, 0, 0]
        header += bytes(source) + bytes(destination)
        header += [0xC3, 0x50, UInt8(port >> 8), UInt8(port & 0xFF)] + [UInt8](repeating: 0, count: 16)
        return header
    }

    func attribution(_ observed: ObservedFirewall? = nil) -> DropAttribution {
        DropAttribution(
            engine: engine, node: "node-a", plans: [.ipv4: plan], observed: [.ipv4: observed ?? ObservedFirewall(plan)])
    }

    func prefix(_ pod: String, _ direction: NetworkPolicy.Direction) throws -> String {
        try #require(plan.denials.first { $0.pod == pod && $0.direction == direction }).logPrefix
    }

    @Test func prefixesAreKeysOfThePlanAndFitTheKernel() throws {
        #expect(plan.denials.count == 3, "api ingress, db ingress and egress: \(plan.denials.map(\.logPrefix))")
        #expect(Set(plan.denials.map(\.logPrefix)).count == plan.denials.count)
        for denial in plan.denials {
            #expect(denial.logPrefix.utf8.count <= 63)
            let rules = try #require(plan.chain(denial.chain)).rules
            #expect(rules.contains(denial.reject) && denial.reject.target == .reject)
            #expect(rules.contains { $0.target == .nflog(group: 100, prefix: denial.logPrefix) })
        }
        #expect(plan.denial(logPrefix: "kube-router deny ingress") == nil)
    }

    @Test func aDeniedPacketIsAttributedToItsPodWithTheEnginesReason() throws {
        let packet = LoggedPacket(
            time: Date(timeIntervalSince1970: 1_700_000_000), group: 100, prefix: try prefix("shop/api", .ingress),
            bridgePortIn: "veth1", payload: Self.ipv4("10.244.1.12", "10.244.1.11", port: 9000))
        let drop = attribution().attribute(packet)
        #expect(drop.cause == .policy && drop.direction == "ingress" && drop.pod == "shop/api")
        #expect(drop.from == "shop/db" && drop.to == "shop/api" && drop.protocol == "TCP" && drop.port == 9000)
        #expect(drop.policies == ["shop/api"] && drop.interface == "veth1")
        #expect(drop.reason == "no ingress rule of shop/api allows TCP/9000 from shop/db", "\(drop.reason)")
        #expect(drop.kernelAgrees == true)

        // shop/db's egress: isolated by a policy without rules.
        let egress = attribution().attribute(
            LoggedPacket(
                time: Date(), group: 100, prefix: try prefix("shop/db", .egress),
                payload: Self.ipv4("10.244.1.12", "10.244.2.10", proto: 17, port: 53)))
        #expect(egress.pod == "shop/db" && egress.direction == "egress" && egress.to == "other/client")
        #expect(egress.protocol == "UDP" && egress.reason == "shop/db isolates shop/db for egress and allows nothing")
    }

    @Test func theKernelWalkFlagsDrift() throws {
        // The api policy's chain emptied by hand: the kernel refuses what the plan allows.
        var observed = ObservedFirewall(plan)
        observed.chains[FirewallNames.policyChain("shop/api", .ingress)] = []
        let packet = LoggedPacket(
            time: Date(), group: 100, prefix: try prefix("shop/api", .ingress),
            payload: Self.ipv4("10.244.1.10", "10.244.1.11", port: 9000))
        let drop = attribution(observed).attribute(packet)
        #expect(drop.kernelAgrees == false)
        #expect(drop.reason.hasPrefix("the policies now allow this"), "\(drop.reason)")
    }

    /// The memo attributes a flow once: packets alike in what attribution reads get the same answer with their
    /// own time and bridge port; another port, source or prefix is another flow; a full memo starts again.
    @Test func theMemoAttributesEachFlowOnce() throws {
        var memo = DropAttributionMemo(attribution(), limit: 3)
        let prefix = try prefix("shop/api", .ingress)
        func packet(_ source: String, port: Int, at seconds: Double, bridge: String? = nil) -> LoggedPacket {
            LoggedPacket(
                time: Date(timeIntervalSince1970: seconds), group: 100, prefix: prefix, bridgePortIn: bridge,
                payload: Self.ipv4(source, "10.244.1.11", port: port))
        }
        let first = memo.attribute(packet("10.244.1.12", port: 9000, at: 1, bridge: "veth1"))
        let again = memo.attribute(packet("10.244.1.12", port: 9000, at: 2, bridge: "veth2"))
        #expect(memo.misses == 1 && memo.hits == 1)
        #expect(first.time == Date(timeIntervalSince1970: 1) && again.time == Date(timeIntervalSince1970: 2))
        #expect(first.interface == "veth1" && again.interface == "veth2")
        var expected = attribution().attribute(packet("10.244.1.12", port: 9000, at: 2, bridge: "veth2"))
        expected.count = again.count
        #expect(again == expected)

        // Another port, another source: flows of their own, each with its own reason.
        let otherPort = memo.attribute(packet("10.244.1.12", port: 9001, at: 3))
        let otherSource = memo.attribute(packet("10.244.1.10", port: 9001, at: 4))
        #expect(memo.misses == 3 && otherPort.port == 9001 && otherSource.from == "shop/web")
        #expect(otherSource.reason == attribution().attribute(packet("10.244.1.10", port: 9001, at: 4)).reason)

        // The memo is full (3): the next flow empties it, so the first flow is attributed again.
        _ = memo.attribute(packet("10.244.1.12", port: 9002, at: 5))
        _ = memo.attribute(packet("10.244.1.12", port: 9000, at: 6))
        #expect(memo.misses == 5)

        // Suggestions are remembered per flow too, and equal the attribution's own.
        let suggestion = memo.suggestion(packet("10.244.1.12", port: 9000, at: 7))
        #expect(suggestion == attribution().suggestion(packet("10.244.1.12", port: 9000, at: 7)))
    }

    @Test func anotherLoggersPrefixIsNotAttributed() {
        let drop = attribution().attribute(
            LoggedPacket(
                time: Date(), group: 100, prefix: "someone else",
                payload: Self.ipv4("192.0.2.1", "10.244.1.11", port: 22)))
        #expect(drop.pod == nil && drop.direction == nil && drop.from == "192.0.2.1" && drop.to == "shop/api")
        #expect(drop.reason.contains("\"someone else\", which this node's plan does not hold"))
    }

    @Test func headersOfIPv6AndFragments() throws {
        var v6: [UInt8] = [0x60, 0, 0, 0, 0, 8, 17, 64]
        v6 += [0xfd, 0] + [UInt8](repeating: 0, count: 13) + [1]
        v6 += [0xfd, 0] + [UInt8](repeating: 0, count: 13) + [2]
        v6 += [0x30, 0x39, 0, 53, 0, 8, 0, 0]
        let header = try #require(PacketHeader(v6))
        #expect(header.source == IPAddress("fd00::1") && header.destination == IPAddress("fd00::2"))
        #expect(header.proto == .udp && header.sourcePort == 12345 && header.destinationPort == 53)
        var fragment = Self.ipv4("10.0.0.1", "10.0.0.2", port: 80)
        fragment[7] = 0x10  // offset 16: no L4 header
        #expect(PacketHeader(fragment)?.destinationPort == nil)
        #expect(PacketHeader([0x45, 0]) == nil && PacketHeader([]) == nil)
    }

    @Test func countersAreFoundByIdentityNotPosition() throws {
        let denial = try #require(plan.denials.first { $0.pod == "shop/api" })
        var rules = try #require(plan.chain(denial.chain)).rules.map {
            DenialCount.Counted(rule: $0, packets: $0 == denial.reject ? 30 : 1, bytes: 1800)
        }
        rules.reverse()
        let counts = DenialCount.match(plan: plan, kernel: [denial.chain: rules])
        let api = try #require(counts.first { $0.pod == "shop/api" })
        #expect(api.packets == 30 && api.direction == "ingress" && api.invalidPackets == 1)
        #expect(counts.first { $0.pod == "shop/db" }?.packets == nil, "no kernel rules read for db: unknown")
    }

    @Test func conntrackStatisticsAreSummedOverCPUs() {
        let text = """
            entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop
            00000010  00000000 00000000 00000000 00000005 00000000 00000000 00000000 00000000 00000002 00000001 0
            00000010  00000000 00000000 00000000 0000000a 00000000 00000000 00000000 00000000 00000001 00000000 0
            """
        let stats = ConntrackStatistics(text: text)
        #expect(stats == ConntrackStatistics(insertFailed: 3, drop: 1, earlyDrop: 0, invalid: 15))
    }

    /// The suggestion, added to the cluster, allows the flow and nothing else that was denied before.
    @Test func theSuggestionAllowsExactlyTheFlow() throws {
        let cases: [(String, String, Int, NetworkPolicy.Direction)] = [
            // Flows only one side refuses (shop/db's egress refuses everything, so not from shop/db to a pod of
            // shop): one suggestion, and explain-policy says allow.
            ("other/client", "shop/api", 9000, .ingress), ("shop/web", "shop/db", 5432, .ingress),
            ("shop/db", "other/client", 53, .egress),
        ]
        let pods = ["shop/web", "shop/api", "shop/db", "other/client"]
        for (from, to, port, direction) in cases {
            let source = try engine.resolve(EndpointReference(from)!)[0]
            let destination = try engine.resolve(EndpointReference(to)!)[0]
            let proto: PortProtocol = port == 53 ? .udp : .tcp
            #expect(!engine.allows(from: source, to: destination, port: port, proto: proto))
            let suggestion = try #require(
                DropSuggestion.suggest(
                    engine: engine, source: source, destination: destination, proto: proto, port: port,
                    direction: direction))
            let after = try Cluster(Self.manifests + "---\n" + suggestion.yaml).engine
            #expect(
                after.explain(from: source, to: destination, port: port, proto: proto).verdict == .allow,
                "\(suggestion.yaml)")
            if direction == .ingress && to == "shop/api" {
                #expect(suggestion.yaml.contains("port: http"), "the port by its name: \(suggestion.yaml)")
            }
            // Over the pod matrix, only the suggested flow changes from deny to allow.
            for a in pods {
                for b in pods where a != b {
                    for (p, pr) in [(9000, PortProtocol.tcp), (5432, .tcp), (8080, .tcp), (53, .udp)] {
                        let s = try engine.resolve(EndpointReference(a)!)[0]
                        let d = try engine.resolve(EndpointReference(b)!)[0]
                        let was = engine.allows(from: s, to: d, port: p, proto: pr)
                        let now = after.allows(from: s, to: d, port: p, proto: pr)
                        let isTheFlow = a == from && b == to && p == port && pr == proto
                        #expect(now == (was || isTheFlow), "\(suggestion.name): \(a) → \(b) \(p): \(was) → \(now)")
                    }
                }
            }
        }
    }

    /// A rewritten chain: rules that stay keep their counters, matched by identity and in order (twins each keep
    /// theirs); new rules start at 0.
    @Test func rewrittenChainsKeepTheCountersOfRulesThatStay() {
        let a = Rule(chain: "C", target: .accept, comment: "a")
        let b = Rule(chain: "C", target: .reject, comment: "b")
        let twin = Rule(chain: "C", target: .drop, comment: "twin")
        let fresh = Rule(chain: "C", target: .drop, comment: "new")
        let kept = IPTablesDiff.keptCounters(
            old: [(a, 5, 500), (twin, 1, 10), (twin, 2, 20), (b, 30, 1800)], new: [fresh, b, twin, a, twin])
        #expect(kept.map(\.position) == [1, 2, 3, 4])
        #expect(kept.map(\.packets) == [30, 1, 5, 2] && kept.map(\.bytes) == [1800, 10, 500, 20])
        #expect(IPTablesDiff.keptCounters(old: [(a, 0, 0)], new: [a]).isEmpty, "nothing to restore at 0")
    }
}
