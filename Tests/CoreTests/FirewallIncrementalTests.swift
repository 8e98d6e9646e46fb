import BenchSupport
import Testing

@testable import KubeModel
@testable import Planning

/// Set-only event syncs: after each of 150 random events (pods of other nodes relabelled, readdressed,
/// added with a used address, given other named ports, deleted; namespaces relabelled or added), the plan
/// `FirewallIncremental` derives from the last one equals a full plan of the new state, set members included.
/// Events only a full plan takes (this node's pods, policies) are refused.
@Suite struct FirewallIncrementalTests {
    struct Random {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
    }

    static func contents(_ snapshot: ClusterSnapshot) -> [KubeObject] {
        snapshot.namespaces.values.map { .namespace($0) } + snapshot.pods.values.map { .pod($0) }
            + snapshot.networkPolicies.values.map { .networkPolicy($0) }
    }

    @Test func setOnlyEventsGiveTheFullPlan() throws {
        let yaml = syntheticManifests(pods: 240, namespaces: 8, policies: 80, nodes: 3)
        var snapshot = ClusterSnapshot(try objects(yaml))
        let node = "node-0"
        func full(_ snapshot: ClusterSnapshot) -> FirewallPlan {
            FirewallPlanner(engine: PolicyEngine(snapshot)).plan(node: node, family: .ipv4)
        }
        var current = full(snapshot)
        #expect(current.setRecipes.count > 10, "the synthetic policies use pod peers and named ports")
        var random = Random(state: 7)
        var applied = 0
        var membersMoved = 0
        for step in 0..<150 {
            let remote = snapshot.pods.values.filter { $0.nodeName != node }.map(\.key).sorted()
            var changes = FirewallIncremental.Changes()
            var next = snapshot
            switch step % 6 {
            case 0:
                var pod = snapshot.pods[remote[random.next(remote.count)]]!
                changes.note(.pod(pod), node: node)
                pod.meta.labels["app"] = "app-\(random.next(8))"
                pod.meta.labels["tier"] = "tier-\(random.next(3))"
                changes.note(.pod(pod), node: node)
                next.apply(.pod(pod))
            case 1:
                var pod = snapshot.pods[remote[random.next(remote.count)]]!
                changes.note(.pod(pod), node: node)
                pod.ips = [IPAddress(v4: 0x0A09_0000 + UInt32(random.next(4000)))]
                changes.note(.pod(pod), node: node)
                next.apply(.pod(pod))
            case 2:
                // A new pod on another node, sometimes with the address of a pod still there.
                var pod = snapshot.pods[remote[random.next(remote.count)]]!
                pod.meta.name = "new-\(step)"
                if random.next(2) == 0 { pod.ips = [IPAddress(v4: 0x0A08_0000 + UInt32(step))] }
                pod.meta.labels["app"] = "app-\(random.next(8))"
                changes.note(.pod(pod), node: node)
                next.apply(.pod(pod))
            case 3:
                var pod = snapshot.pods[remote[random.next(remote.count)]]!
                changes.note(.pod(pod), node: node)
                pod.ports = pod.ports.map {
                    var p = $0
                    p.port += 1
                    return p
                }
                changes.note(.pod(pod), node: node)
                next.apply(.pod(pod))
            case 4:
                let key = remote[random.next(remote.count)]
                changes.note(.pod(snapshot.pods[key]!), node: node)
                next = ClusterSnapshot(Self.contents(snapshot).filter { $0.kind != "Pod" || $0.key != key })
            default:
                let names = snapshot.namespaces.keys.sorted()
                var namespace = snapshot.namespaces[names[random.next(names.count)]]!
                if random.next(4) == 0 { namespace = Namespace(name: "added-\(step)") }
                namespace.meta.labels["team"] = "team-\(random.next(10))"
                changes.note(.namespace(namespace), node: node)
                next.apply(.namespace(namespace))
            }
            let expected = full(next)
            let updated = try #require(
                FirewallIncremental.update([current], engine: PolicyEngine(next), changes: changes))
            #expect(updated == [expected], "step \(step): \(difference(updated[0], expected))")
            if updated != [expected] { return }
            membersMoved += zip(current.sets, expected.sets).filter { $0.members != $1.members }.count
            applied += 1
            snapshot = next
            current = expected
        }
        #expect(applied == 150 && membersMoved > 50, "\(applied) events, \(membersMoved) sets changed")
    }

    func difference(_ a: FirewallPlan, _ b: FirewallPlan) -> String {
        if a.chains != b.chains { return "chains differ" }
        for (x, y) in zip(a.sets, b.sets) where x != y {
            let extra = Set(x.members).subtracting(y.members)
            return "\(x.name): \(extra) extra, \(Set(y.members).subtracting(x.members)) missing"
        }
        return a.sets.count == b.sets.count ? "" : "set counts differ"
    }

    @Test func eventsOfThisNodeOrOfPoliciesNeedAFullPlan() throws {
        let snapshot = ClusterSnapshot(try objects(syntheticManifests(pods: 30, namespaces: 3, policies: 9, nodes: 3)))
        let plan = FirewallPlanner(engine: PolicyEngine(snapshot)).plan(node: "node-0", family: .ipv4)
        let local = snapshot.pods.values.first { $0.nodeName == "node-0" }!
        var changes = FirewallIncremental.Changes()
        changes.note(.pod(local), node: "node-0")
        #expect(FirewallIncremental.update([plan], engine: PolicyEngine(snapshot), changes: changes) == nil)
        changes = FirewallIncremental.Changes()
        changes.note(.networkPolicy(snapshot.networkPolicies.values.first!), node: "node-0")
        #expect(FirewallIncremental.update([plan], engine: PolicyEngine(snapshot), changes: changes) == nil)
        #expect(FirewallIncremental.update([plan], engine: PolicyEngine(snapshot), changes: .init()) == [plan])
    }
}
