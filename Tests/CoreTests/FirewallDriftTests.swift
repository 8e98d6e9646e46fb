import TestSupport
import Testing

@testable import KubeModel
@testable import Planning

/// The kernel's firewall compared with the plan: each kind of damage is found, named by its cause,
/// and changes the kernel verdict krctl reports.
@Suite struct FirewallDriftTests {
    static let manifests =
        namespace("shop") + namespace("other", ["team": "other"])
        + pod("shop/web", "10.244.1.10", ["app": "web"], ports: "[{name: http, containerPort: 8080}]")
        + pod("shop/api", "10.244.1.11", ["app": "api"], ports: "[{name: http, containerPort: 9000}]")
        + pod("other/client", "10.244.2.10", ["app": "client"], node: "node-b")
        + policy(
            "shop/api",
            """
            podSelector: {matchLabels: {app: api}}
            ingress:
            - from: [{podSelector: {matchLabels: {app: web}}}]
              ports: [{port: http}]
            """)

    let engine: PolicyEngine
    let plan: FirewallPlan

    init() throws {
        engine = try Cluster(Self.manifests).engine
        plan = FirewallPlanner(engine: engine).plan(node: "node-a", family: .ipv4)
    }

    func endpoint(_ key: String) throws -> TrafficEndpoint { try engine.resolve(EndpointReference(key)!)[0] }

    func verdict(
        _ observed: ObservedFirewall, from: String = "shop/web", to: String = "shop/api", port: Int = 9000
    ) throws -> KernelVerdict {
        KernelCheck.verdict(
            plan: plan, observed: observed, node: "node-a", from: try endpoint(from), to: try endpoint(to),
            port: port, proto: .tcp)
    }

    var apiChain: String { FirewallNames.policyChain("shop/api", .ingress) }

    @Test func theKernelAsPlannedHasNoDrift() throws {
        let observed = ObservedFirewall(plan)
        #expect(FirewallDrift.compare(plan, observed).isEmpty)
        let allowed = try verdict(observed)
        #expect(allowed.verdict == "accept" && allowed.agrees && allowed.drift.isEmpty && allowed.hook == "FORWARD")
        #expect(allowed.enforces == ["egress of shop/web", "ingress of shop/api"])
        #expect(allowed.sets.contains { $0.entry == "10.244.1.10" && $0.member })
        let denied = try verdict(observed, from: "other/client")
        #expect(denied.verdict == "reject" && denied.agrees)
        #expect(denied.decidedBy?.comment == "pod shop/api ingress: denied by shop/api")
        #expect(denied.decidedBy?.rule == denied.path.last?.rule)
    }

    @Test func aDeletedRuleIsMissingAndFlipsTheVerdict() throws {
        var observed = ObservedFirewall(plan)
        let removed = observed.chains[apiChain]!.removeFirst()
        let findings = FirewallDrift.compare(plan, observed)
        #expect(findings.count == 1)
        #expect(
            findings.first?.kind == .missingRule && findings.first?.chain == apiChain
                && findings.first?.about == removed.comment)
        #expect(
            findings.first?.description.hasPrefix("rule missing from \(apiChain) (shop/api ingress rule 0): -p tcp")
                == true, "\(findings)")
        let k = try verdict(observed)
        #expect(k.verdict == "reject" && k.planned == "accept" && !k.agrees && k.hasDrift)
        #expect(k.drift.map(\.kind) == [.missingRule])
    }

    @Test func aPodMissingFromASetIsNamed() throws {
        var observed = ObservedFirewall(plan)
        let index = try #require(observed.sets.firstIndex { $0.members.contains(.ip("10.244.1.10")) })
        observed.sets[index].members.removeAll { $0 == .ip("10.244.1.10") }
        observed.sets[index].members.append(.ip("10.244.1.99"))
        let k = try verdict(observed)
        #expect(!k.agrees)
        #expect(
            k.drift.map(\.description) == [
                "10.244.1.10 is missing from set \(observed.sets[index].name) (shop/api ingress rule 0 peer pods)",
                "10.244.1.99 is in set \(observed.sets[index].name) (shop/api ingress rule 0 peer pods) "
                    + "but should not be (stale)",
            ])
    }

    @Test func missingChainsStaleChainsAndHooks() throws {
        var observed = ObservedFirewall(plan)
        let podChain = FirewallNames.podChain("shop/api")
        observed.chains[podChain] = nil
        observed.chains["KUBE-POD-FW-0000000000000000"] = []
        observed.hookPositions[1] = 3  // someone inserted rules above our FORWARD hook
        let kinds = FirewallDrift.compare(plan, observed).map(\.kind)
        #expect(kinds.sorted { $0.rawValue < $1.rawValue } == [.missingChain, .missingHook, .staleChain])
        // On the path: the jump into the missing chain falls through, so the kernel accepts.
        let k = try verdict(observed, from: "other/client")
        #expect(k.verdict == "accept" && k.planned == "reject")
        #expect(k.drift.contains { $0.kind == .missingChain && $0.chain == podChain && $0.about == "pod shop/api" })
        #expect(k.drift.contains { $0.kind == .missingHook && $0.chain == "FORWARD" })
    }

    @Test func reorderedRulesAreDrift() throws {
        var observed = ObservedFirewall(plan)
        let podChain = FirewallNames.podChain("shop/api")
        observed.chains[podChain]!.reverse()
        #expect(FirewallDrift.compare(plan, observed).map(\.kind) == [.rulesOutOfOrder])
    }

    @Test func whereTheNodeSeesThePacket() throws {
        let observed = ObservedFirewall(plan)
        let remote = try verdict(observed, from: "other/client", to: "other/client")
        #expect(remote.hook == nil && remote.verdict == nil && remote.note?.contains("node-a") == true)
        let node = TrafficEndpoint(kind: .node("node-a"), ip: IPAddress("192.168.0.1")!)
        let probe = KernelCheck.verdict(
            plan: plan, observed: observed, node: "node-a", from: node, to: try endpoint("shop/api"),
            port: 9000, proto: .tcp)
        #expect(
            probe.hook == "OUTPUT" && probe.verdict == "accept" && probe.decidedBy?.comment.contains("kubelet") == true)
    }

    @Test func podProtection() throws {
        var observed = ObservedFirewall(plan)
        let api = try #require(engine.snapshot.pods["shop/api"])
        let ok = KernelCheck.protection(
            of: api, engine: engine, plan: plan, observed: observed, node: "node-a", status: nil)
        #expect(ok.state == .protected && ok.drift.isEmpty && ok.ingress.isolated && !ok.egress.isolated)
        #expect(ok.enteredFrom == ["KUBE-ROUTER-FORWARD #1", "KUBE-ROUTER-OUTPUT #1"])
        #expect(ok.ingress.chains.map(\.chain) == [apiChain] && ok.ingress.chains[0].present)
        let web = try #require(engine.snapshot.pods["shop/web"])
        #expect(
            KernelCheck.protection(of: web, engine: engine, plan: plan, observed: observed, node: "node-a", status: nil)
                .state == .notIsolated)
        // Only the pod's own objects count: damage to another pod's chain is not this pod's drift.
        observed.chains[FirewallNames.forwardChain]!.removeAll { $0.comment == "pod shop/api ingress" }
        let damaged = KernelCheck.protection(
            of: api, engine: engine, plan: plan, observed: observed, node: "node-a", status: nil)
        #expect(damaged.state == .drift && damaged.enteredFrom == ["KUBE-ROUTER-OUTPUT #1"])
        #expect(damaged.drift.map(\.kind) == [.missingRule])
        let text = FirewallText.protection(damaged, terminal: Terminal(color: false))
        #expect(text.contains("State: DRIFT") && text.contains("rule missing from KUBE-ROUTER-FORWARD"), "\(text)")
    }

    @Test func defaultDenyIsolatesEveryPod() throws {
        let c = try Cluster(Self.manifests, defaultDeny: true)
        let e = try c.explain("shop/web", "other/client", "80")
        #expect(e.verdict == .deny && e.egress.isolated && e.egress.policies.isEmpty)
        #expect(e.egress.reason.contains("--netpol-default-deny"))
        #expect(try !c.allowed("shop/web", "shop/api", "9000"), "web's egress is isolated too: no policy allows it")
        let plan = FirewallPlanner(engine: c.engine).plan(node: "node-a", family: .ipv4)
        let web = try #require(plan.chain(FirewallNames.podChain("shop/web")))
        #expect(
            web.rules.contains {
                $0.target == .reject && $0.comment == "pod shop/web egress: denied by default (--netpol-default-deny)"
            })
    }
}
