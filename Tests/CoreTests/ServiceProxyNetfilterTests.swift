import TestSupport
import Testing

@testable import KubeModel
@testable import Planning

/// The iptables and ipset pieces of the service proxy, and the trace krctl builds from plan and kernel.
@Suite struct ServiceProxyNetfilterTests {
    func plan(hairpin: Bool = false) throws -> ServiceProxyPlan {
        ServiceProxyPlanner.plan(
            ClusterSnapshot(try objects(ServiceProxyPlannerTests.cluster)), node: "n1",
            nodeAddresses: [IPAddress("192.168.0.11")!], options: .init(hairpinAll: hairpin))
    }

    /// An event skips the netfilter plan when the services it replanned read the same for it: true for an
    /// ordinary service's endpoints, and checked against the plan itself for each kind of change.
    @Test func whatAnEventCanLeaveTheNetfilterPlanAlone() throws {
        func part(_ cluster: String, hairpin: Bool = false) throws -> ServicePlan {
            let snapshot = ClusterSnapshot(try objects(cluster))
            return ServiceProxyPlanner.plan(
                service: snapshot.services["shop/web"]!,
                slices: ServiceProxyPlanner.slices(of: "shop/web", in: snapshot),
                node: "n1", nodeAddresses: [], options: .init(hairpinAll: hairpin))
        }
        let service = """
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec: {clusterIP: 10.96.0.10, ports: [{name: http, port: 80}]}

            """
        let base = service + ServiceProxyPlannerTests.slice("shop/web", [("10.244.1.10", "n1", true, false)])
        let moved = service + ServiceProxyPlannerTests.slice("shop/web", [("10.244.2.10", "n2", true, false)])
        let readdressed = base.replacingOccurrences(of: "10.96.0.10", with: "10.96.0.20")
        let otherPort = base.replacingOccurrences(of: "port: 80}", with: "port: 81}")
        for (from, to, hairpin, same) in [
            (base, moved, false, true), (base, moved, true, false), (base, readdressed, false, false),
            (base, otherPort, false, false), (base, base, true, true),
        ] {
            let old = try part(from, hairpin: hairpin)
            let new = try part(to, hairpin: hairpin)
            #expect(ServiceProxyNetfilter.unchanged(from: old, to: new) == same)
            // The claim checked against the plan it stands for.
            func netfilter(_ p: ServicePlan) -> ServiceProxyNetfilter.Plan {
                ServiceProxyNetfilter.plan(
                    ServiceProxyPlanner.assemble(["shop/web": p], nodeAddresses: []), family: .ipv4, options: .init())
            }
            if same { #expect(netfilter(old) == netfilter(new)) } else { #expect(netfilter(old) != netfilter(new)) }
        }
        #expect(!ServiceProxyNetfilter.unchanged(from: nil, to: try part(base)))
    }

    @Test func setsHoldTheVIPsAndTheirPortsButNotNodePorts() throws {
        let netfilter = ServiceProxyNetfilter.plan(
            try plan(), family: .ipv4, options: .init(podCIDRs: [CIDR("10.244.1.0/24")!]))
        let vips = netfilter.sets.first { $0.name == "kube-router-svip" }
        let ports = netfilter.sets.first { $0.name == "kube-router-svip-prt" }
        #expect(
            vips?.members == [
                .ip("10.96.0.10"), .ip("10.96.0.11"), .ip("10.96.0.13"), .ip("198.51.100.9"), .ip("203.0.113.7"),
            ])
        #expect(ports?.type == .hashIPPort)
        #expect(
            ports?.members.contains(.ipPort("10.96.0.13", .udp, 53)) == true
                && ports?.members.contains(.ipPort("203.0.113.7", .tcp, 80)) == true)
        #expect(
            ports?.members.contains {
                if case .addressPort(let address, _, _) = $0 { address == IPAddress("192.168.0.11") } else { false }
            } == false,
            "NodePorts are on the node's address, not a VIP")
    }

    @Test func inputGuardReturnsForServicePortsAndRejectsTheRest() throws {
        let netfilter = ServiceProxyNetfilter.plan(try plan(), family: .ipv4, options: .init())
        let rules = try #require(netfilter.filter.chain(ServiceProxyNetfilter.servicesChain)).rules
        #expect(rules.first?.target == .return && rules.first?.sets.first?.name == "kube-router-svip-prt")
        #expect(
            rules.dropFirst().map(\.proto) == [.tcp, .udp, .sctp]
                && rules.dropFirst().allSatisfy { $0.target == .reject })
        #expect(netfilter.filter.hooks.map(\.chain) == ["INPUT"])
    }

    @Test func masqueradeKeepsPodSourcesUnlessAskedOtherwise() throws {
        let podCIDR = CIDR("10.244.1.0/24")!
        let normal = ServiceProxyNetfilter.plan(try plan(), family: .ipv4, options: .init(podCIDRs: [podCIDR]))
        let rules = try #require(normal.nat.chain(ServiceProxyNetfilter.masqueradeChain)).rules
        #expect(rules.map(\.target) == [.return, .return, .masquerade])
        #expect(rules[0].source == podCIDR && rules[1].destination == podCIDR)
        #expect(normal.nat.hooks.first?.ipvsMasquerade == true && normal.nat.hooks.first?.chain == "POSTROUTING")
        let all = ServiceProxyNetfilter.plan(
            try plan(), family: .ipv4, options: .init(masqueradeAll: true, podCIDRs: [podCIDR]))
        #expect(all.nat.chain(ServiceProxyNetfilter.masqueradeChain)?.rules.map(\.target) == [.masquerade])
        // Hairpin: each endpoint reaching itself is masqueraded, before the pod-CIDR returns.
        let hairpin = ServiceProxyNetfilter.plan(
            try plan(hairpin: true), family: .ipv4, options: .init(podCIDRs: [podCIDR]))
        let first = try #require(hairpin.nat.chain(ServiceProxyNetfilter.masqueradeChain)?.rules.first)
        #expect(first.target == .masquerade && first.source == first.destination && first.source?.prefixLength == 32)
    }

    @Test func restoreTextSpellsTheIPVSMatch() throws {
        let netfilter = ServiceProxyNetfilter.plan(try plan(), family: .ipv4, options: .init())
        let text = FirewallPlan.arguments(netfilter.nat.hooks[0])
        #expect(
            text.contains("-m ipvs --ipvs --vdir ORIGINAL --vmethod MASQ") && text.hasSuffix("-j KUBE-ROUTER-SVC-MASQ"),
            "\(text)")
    }
}
