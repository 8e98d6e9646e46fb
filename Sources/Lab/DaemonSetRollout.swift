import Foundation
import KubeModel

/// The DaemonSet controller's decisions, as a pure function of the DaemonSet, the nodes and the pods it
/// owns: which nodes get a pod, which old pods go in a rolling update (never more unavailable nodes than
/// `maxUnavailable`, a pod counting as available once Ready for `minReadySeconds`), and the status that
/// `kubectl rollout status` reads.
struct DaemonSetRollout {
    struct Decision {
        var create: [String] = []
        var delete: [JSONValue] = []
        var status: JSONValue = .object([:])
    }

    /// The template's revision: a hash of its canonical JSON, as the pods' `controller-revision-hash` label.
    static func revision(of daemonSet: JSONValue) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (daemonSet["spec"]?["template"] ?? .null).jsonData() {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(String(hash, radix: 36).prefix(10))
    }

    static func decide(daemonSet: JSONValue, nodes: [String], pods: [JSONValue], now: Date) -> Decision {
        let revision = revision(of: daemonSet)
        let minReady = Double(daemonSet["spec"]?["minReadySeconds"]?.intValue ?? 0)
        let rolling = daemonSet["spec"]?["updateStrategy"]?["type"]?.stringValue != "OnDelete"
        let maxUnavailable = Self.maxUnavailable(daemonSet, nodes: nodes.count)
        var decision = Decision()
        var byNode: [String: [JSONValue]] = [:]
        for pod in pods {
            guard let node = pod["spec"]?["nodeName"]?.stringValue else { continue }
            byNode[node, default: []].append(pod)
        }
        func terminating(_ pod: JSONValue) -> Bool { pod["metadata"]?["deletionTimestamp"] != nil }
        func current(_ pod: JSONValue) -> Bool {
            pod["metadata"]?["labels"]?["controller-revision-hash"]?.stringValue == revision
        }
        func readySince(_ pod: JSONValue) -> Date? {
            let ready = pod["status"]?["conditions"]?.arrayValue?.first { $0["type"] == "Ready" }
            guard ready?["status"] == "True" else { return nil }
            return LabContext.date(ready?["lastTransitionTime"]?.stringValue) ?? .distantPast
        }
        func available(_ pod: JSONValue) -> Bool {
            guard !terminating(pod), let since = readySince(pod) else { return false }
            return now.timeIntervalSince(since) >= minReady
        }

        var unavailable = 0
        var oldAvailable: [JSONValue] = []
        var counts = (scheduled: 0, ready: 0, available: 0, updated: 0)
        for node in nodes {
            let onNode = byNode[node] ?? []
            let live = onNode.filter { !terminating($0) }
            if live.isEmpty {
                // Wait for a terminating pod to go before its replacement starts (one agent per node).
                if onNode.isEmpty { decision.create.append(node) }
                unavailable += 1
                continue
            }
            counts.scheduled += 1
            if live.contains(where: { readySince($0) != nil }) { counts.ready += 1 }
            if live.contains(where: available) { counts.available += 1 } else { unavailable += 1 }
            if live.contains(where: current) { counts.updated += 1 }
            // More than one live pod on a node: keep the newest revision's.
            for extra in live.dropFirst() where !current(extra) { decision.delete.append(extra) }
            if rolling, let pod = live.first, !current(pod) {
                if available(pod) { oldAvailable.append(pod) } else { decision.delete.append(pod) }
            }
        }
        for pod in byNode.filter({ !nodes.contains($0.key) }).values.joined() where !terminating(pod) {
            decision.delete.append(pod)
        }
        while unavailable < maxUnavailable, let pod = oldAvailable.first {
            oldAvailable.removeFirst()
            decision.delete.append(pod)
            unavailable += 1
        }
        var status: [String: JSONValue] = [:]
        status["observedGeneration"] = daemonSet["metadata"]?["generation"] ?? .int(1)
        status["desiredNumberScheduled"] = .int(Int64(nodes.count))
        status["currentNumberScheduled"] = .int(Int64(counts.scheduled))
        status["numberMisscheduled"] = .int(0)
        status["numberReady"] = .int(Int64(counts.ready))
        status["numberAvailable"] = .int(Int64(counts.available))
        status["numberUnavailable"] = .int(Int64(nodes.count - counts.available))
        status["updatedNumberScheduled"] = .int(Int64(counts.updated))
        decision.status = .object(status)
        return decision
    }

    /// `spec.updateStrategy.rollingUpdate.maxUnavailable`: a number or a percentage (rounded up), at least 1.
    static func maxUnavailable(_ daemonSet: JSONValue, nodes: Int) -> Int {
        let value = daemonSet["spec"]?["updateStrategy"]?["rollingUpdate"]?["maxUnavailable"]
        if let number = value?.intValue { return max(number, 1) }
        if let text = value?.stringValue, text.hasSuffix("%"), let percent = Double(text.dropLast()) {
            return max(Int((Double(nodes) * percent / 100).rounded(.up)), 1)
        }
        return 1
    }

    /// The pod for `node` from the DaemonSet's template.
    static func pod(for daemonSet: JSONValue, node: String) -> JSONValue {
        let name = daemonSet["metadata"]?["name"]?.stringValue ?? "daemonset"
        var pod = daemonSet["spec"]?["template"] ?? .object([:])
        var metadata = pod["metadata"]?.objectValue ?? [:]
        var labels = metadata["labels"]?.objectValue ?? [:]
        labels["controller-revision-hash"] = .string(revision(of: daemonSet))
        labels["pod-template-generation"] = .string(String(daemonSet["metadata"]?["generation"]?.intValue ?? 1))
        metadata["labels"] = .object(labels)
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        metadata["name"] = .string("\(name)-\(suffix.prefix(5))")
        metadata["namespace"] = daemonSet["metadata"]?["namespace"] ?? "default"
        metadata["ownerReferences"] = .array([
            .object([
                "apiVersion": "apps/v1", "kind": "DaemonSet", "name": .string(name),
                "uid": daemonSet["metadata"]?["uid"] ?? "", "controller": .bool(true),
                "blockOwnerDeletion": .bool(true),
            ])
        ])
        pod["metadata"] = .object(metadata)
        pod["apiVersion"] = "v1"
        pod["kind"] = "Pod"
        pod["spec"]?["nodeName"] = .string(node)
        return pod
    }
}
