import Foundation
import KubeModel
import Testing

@testable import Lab

/// The lab's DaemonSet controller decides as Kubernetes' does: a pod per node, rolling updates that never take
/// more than maxUnavailable nodes' pods away, availability counted from Ready + minReadySeconds.
struct LabRolloutTests {
    let nodes = ["node-1", "node-2", "node-3"]
    let now = Date()

    func daemonSet(image: String = "v1", maxUnavailable: JSONValue = .int(1)) -> JSONValue {
        .object([
            "metadata": .object([
                "name": "kube-router", "namespace": "kube-system", "uid": "ds-1", "generation": .int(2),
            ]),
            "spec": .object([
                "minReadySeconds": .int(10),
                "updateStrategy": .object([
                    "type": "RollingUpdate", "rollingUpdate": .object(["maxUnavailable": maxUnavailable]),
                ]),
                "template": .object(["spec": .object(["containers": .array([.object(["image": .string(image)])])])]),
            ]),
        ])
    }

    /// A pod of `owner`'s current template on `node`, Ready since `readyFor` seconds (nil: not ready).
    func pod(_ node: String, of owner: JSONValue, readyFor: Double?, terminating: Bool = false) -> JSONValue {
        var pod = DaemonSetRollout.pod(for: owner, node: node)
        if let readyFor {
            pod["status"] = .object([
                "conditions": .array([
                    .object([
                        "type": "Ready", "status": "True",
                        "lastTransitionTime": .string(LabContext.timestamp(now.addingTimeInterval(-readyFor))),
                    ])
                ])
            ])
        }
        if terminating { pod["metadata"]?["deletionTimestamp"] = .string(LabContext.timestamp(now)) }
        return pod
    }

    @Test func everyNodeGetsOnePod() {
        let decision = DaemonSetRollout.decide(daemonSet: daemonSet(), nodes: nodes, pods: [], now: now)
        #expect(decision.create == nodes)
        #expect(decision.delete.isEmpty)
        #expect(decision.status["desiredNumberScheduled"] == .int(3))
        #expect(decision.status["numberAvailable"] == .int(0))
    }

    @Test func aSteadyDaemonSetIsLeftAloneAndCountedAvailable() {
        let ds = daemonSet()
        let pods = nodes.map { pod($0, of: ds, readyFor: 60) }
        let decision = DaemonSetRollout.decide(daemonSet: ds, nodes: nodes, pods: pods, now: now)
        #expect(decision.create.isEmpty && decision.delete.isEmpty)
        #expect(decision.status["numberAvailable"] == .int(3))
        #expect(decision.status["updatedNumberScheduled"] == .int(3))
        #expect(decision.status["observedGeneration"] == .int(2))
    }

    @Test func aNewTemplateReplacesOnePodAtATime() {
        let old = daemonSet(image: "v1")
        let new = daemonSet(image: "v2")
        #expect(DaemonSetRollout.revision(of: old) != DaemonSetRollout.revision(of: new))
        var pods = nodes.map { pod($0, of: old, readyFor: 60) }
        var decision = DaemonSetRollout.decide(daemonSet: new, nodes: nodes, pods: pods, now: now)
        #expect(decision.delete.count == 1)
        #expect(decision.create.isEmpty)
        #expect(decision.status["updatedNumberScheduled"] == .int(0))

        // While the old pod terminates, its node gets no replacement and no other pod goes.
        pods[0] = pod("node-1", of: old, readyFor: 60, terminating: true)
        decision = DaemonSetRollout.decide(daemonSet: new, nodes: nodes, pods: pods, now: now)
        #expect(decision.create.isEmpty && decision.delete.isEmpty)

        // Gone: the replacement is created; Ready but not for minReadySeconds yet: still nothing else goes.
        pods.removeFirst()
        decision = DaemonSetRollout.decide(daemonSet: new, nodes: nodes, pods: pods, now: now)
        #expect(decision.create == ["node-1"])
        pods.insert(pod("node-1", of: new, readyFor: 5), at: 0)
        decision = DaemonSetRollout.decide(daemonSet: new, nodes: nodes, pods: pods, now: now)
        #expect(decision.delete.isEmpty)
        #expect(decision.status["updatedNumberScheduled"] == .int(1))
        #expect(decision.status["numberAvailable"] == .int(2))

        // Available: the next old pod goes.
        pods[0] = pod("node-1", of: new, readyFor: 11)
        decision = DaemonSetRollout.decide(daemonSet: new, nodes: nodes, pods: pods, now: now)
        #expect(decision.delete.count == 1)
        #expect(decision.delete.first?["spec"]?["nodeName"] != "node-1")
    }

    @Test func oldPodsThatAreNotAvailableGoAtOnceAndPercentagesRoundUp() {
        let old = daemonSet(image: "v1")
        let new = daemonSet(image: "v2")
        let pods = [
            pod("node-1", of: old, readyFor: nil), pod("node-2", of: old, readyFor: 60),
            pod("node-3", of: old, readyFor: 60),
        ]
        let decision = DaemonSetRollout.decide(daemonSet: new, nodes: nodes, pods: pods, now: now)
        // node-1's pod is unavailable anyway: it goes without using the budget, which is then used up.
        #expect(decision.delete.count == 1)
        #expect(decision.delete.first?["spec"]?["nodeName"] == "node-1")
        #expect(DaemonSetRollout.maxUnavailable(daemonSet(maxUnavailable: "50%"), nodes: 3) == 2)
        #expect(DaemonSetRollout.maxUnavailable(daemonSet(maxUnavailable: "10%"), nodes: 3) == 1)
    }
}
