import TestSupport
import Testing

@testable import KubeModel
@testable import Planning

/// Pod egress's plan: per family, the cluster's pod CIDRs and node addresses in kube-router's set names, and
/// one masquerade rule for pod sources towards neither.
@Suite struct PodEgressTests {
    static let nodes = """
        kind: Node
        metadata: {name: a}
        spec: {podCIDRs: [10.244.1.0/24, "fd00:10:244:1::/64"]}
        status:
          addresses:
          - {type: InternalIP, address: 10.0.0.1}
          - {type: InternalIP, address: "fd00::1"}
          - {type: ExternalIP, address: 203.0.113.1}
          - {type: Hostname, address: node-a}
        ---
        kind: Node
        metadata: {name: b}
        spec: {podCIDR: 10.244.2.0/24}
        status: {addresses: [{type: InternalIP, address: 10.0.0.2}]}
        """

    func nodes() throws -> [Node] {
        ClusterSnapshot(try objects(Self.nodes)).nodes.values.sorted { $0.name < $1.name }
    }

    @Test func setsHoldEveryNodesPodCIDRsAndAddressesOfTheFamily() throws {
        let v4 = PodEgress.plan(nodes: try nodes(), family: .ipv4)
        #expect(v4.sets.map(\.name) == ["kube-router-pod-subnets", "kube-router-node-ips"])
        #expect(v4.sets[0].type == .hashNet && v4.sets[1].type == .hashIP)
        #expect(v4.sets[0].members == [.net(CIDR("10.244.1.0/24")!), .net(CIDR("10.244.2.0/24")!)])
        #expect(v4.sets[1].members == [.ip("10.0.0.1"), .ip("10.0.0.2"), .ip("203.0.113.1")])
        let v6 = PodEgress.plan(nodes: try nodes(), family: .ipv6)
        #expect(v6.sets.map(\.name) == ["inet6:kube-router-pod-subnets", "inet6:kube-router-node-ips"])
        #expect(v6.sets.allSatisfy { $0.family == .ipv6 })
        #expect(v6.sets[0].members == [.net(CIDR("fd00:10:244:1::/64")!)])
        #expect(v6.sets[1].members == [.ip("fd00::1")])
    }

    @Test func oneMasqueradeRuleForPodsLeavingTheCluster() throws {
        let plan = PodEgress.plan(nodes: try nodes(), family: .ipv4)
        let rules = try #require(plan.nat.chain(PodEgress.chain)).rules
        #expect(rules.count == 1)
        #expect(rules[0].target == .masquerade)
        #expect(
            rules[0].sets == [
                .init(name: "kube-router-pod-subnets", flags: ["src"]),
                .init(name: "kube-router-pod-subnets", flags: ["dst"], negated: true),
                .init(name: "kube-router-node-ips", flags: ["dst"], negated: true),
            ])
        #expect(
            plan.nat.hooks == [
                Rule(chain: "POSTROUTING", target: .jump(PodEgress.chain), comment: "kube-router pod egress")
            ])
        #expect(PodEgress.natOwner.owns(PodEgress.chain) && !PodEgress.natOwner.owns("KUBE-ROUTER-SVC-MASQ"))
        #expect(PodEgress.setOwner.prefixes.allSatisfy { !$0.hasPrefix("kube-router-svip") })
    }
}
