import Foundation
import KubeAPI
import KubeModel

extension APIResource {
    static let configMaps = APIResource(
        kind: "ConfigMap", group: "", version: "v1", plural: "configmaps", namespaced: true)
    static let daemonSets = APIResource(
        kind: "DaemonSet", group: "apps", version: "v1", plural: "daemonsets", namespaced: true)
}

/// What a cluster's control plane and kubelets would do, for the lab's nodes: registers the nodes (with
/// pod CIDRs, as the controller manager allocates them), schedules pods without a node, runs the
/// DaemonSet controller and an EndpointSlice controller, and runs every pod bound to a lab node through
/// a `PodWorker`. Level-triggered: every half second it lists what it needs and acts on the difference.
final class Emulator: @unchecked Sendable {
    let context: LabContext
    let nodes: [(name: String, address: String, podCIDR: String)]
    private var workers: [String: PodWorker] = [:]  // by pod UID

    init(context: LabContext, nodeCount: Int) {
        self.context = context
        self.nodes = (1...nodeCount).map {
            (context.layout.nodeName($0), context.layout.nodeAddress($0), context.layout.podCIDR($0))
        }
    }

    func log(_ message: String) {
        FileHandle.standardError.write(Data("\(LabContext.timestamp()) emulator: \(message)\n".utf8))
    }

    /// Registers the nodes as their kubelets would.
    func registerNodes() throws {
        for node in nodes {
            let object: JSONValue = .object([
                "apiVersion": "v1", "kind": "Node",
                "metadata": .object([
                    "name": .string(node.name),
                    "labels": .object([
                        "kubernetes.io/hostname": .string(node.name), "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                    ]),
                ]),
                "spec": .object(["podCIDR": .string(node.podCIDR), "podCIDRs": .array([.string(node.podCIDR)])]),
                "status": .object([
                    "addresses": .array([
                        .object(["type": "InternalIP", "address": .string(node.address)]),
                        .object(["type": "Hostname", "address": .string(node.name)]),
                    ]),
                    "conditions": .array([
                        .object([
                            "type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status (kube-router lab)",
                            "lastTransitionTime": .string(LabContext.timestamp()),
                            "lastHeartbeatTime": .string(LabContext.timestamp()),
                        ])
                    ]),
                    "nodeInfo": .object([
                        "kubeletVersion": "v1.32.0-lab", "containerRuntimeVersion": "kube-router-lab://1",
                        "operatingSystem": "linux", "architecture": "amd64",
                        "kernelVersion": .string(ProcessInfo.processInfo.operatingSystemVersionString),
                    ]),
                ]),
            ])
            do {
                _ = try context.client.create(.nodes, namespace: nil, object: object)
            } catch let error as KubeAPIError where error.statusCode == 409 {
                // Already registered (the emulator restarted).
            }
        }
    }

    /// The `kubernetes` Service and its EndpointSlice (the API server's own address), as kube-apiserver keeps them.
    func registerAPIService() throws {
        let layout = context.layout
        let service: JSONValue = .object([
            "apiVersion": "v1", "kind": "Service",
            "metadata": .object([
                "name": "kubernetes", "namespace": "default",
                "labels": .object(["component": "apiserver", "provider": "kubernetes"]),
            ]),
            "spec": .object([
                "type": "ClusterIP",
                "ports": .array([
                    .object([
                        "name": "https", "port": .int(443), "protocol": "TCP",
                        "targetPort": .int(Int64(layout.apiPort)),
                    ])
                ]),
            ]),
        ])
        let slice: JSONValue = .object([
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": .object([
                "name": "kubernetes", "namespace": "default",
                "labels": .object(["kubernetes.io/service-name": "kubernetes"]),
            ]),
            "addressType": "IPv4",
            "endpoints": .array([
                .object([
                    "addresses": .array([.string(layout.apiAddress)]), "conditions": .object(["ready": .bool(true)]),
                ])
            ]),
            "ports": .array([.object(["name": "https", "port": .int(Int64(layout.apiPort)), "protocol": "TCP"])]),
        ])
        for (resource, object) in [(APIResource.services, service), (.endpointSlices, slice)] {
            do {
                _ = try context.client.create(resource, namespace: "default", object: object)
            } catch let error as KubeAPIError where error.statusCode == 409 {}
        }
    }

    /// The loop; returns when `shouldStop` says so, after stopping every pod.
    func run(shouldStop: () -> Bool) {
        while !shouldStop() {
            do { try reconcile() } catch { log("\(error)") }
            Thread.sleep(forTimeInterval: 0.5)
        }
        for worker in workers.values { worker.terminate(grace: PodWorker.grace(.null)) }
        let deadline = Date().addingTimeInterval(35)
        while workers.values.contains(where: { !$0.finished }) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    private func reconcile() throws {
        let nodeNames = nodes.map(\.name)
        var pods = try context.client.list(.pods).items
        // The scheduler: unbound pods go to the node (honouring nodeName selectors) with the fewest pods.
        for pod in pods where pod["spec"]?["nodeName"]?.stringValue == nil {
            let selector = pod["spec"]?["nodeSelector"]?["kubernetes.io/hostname"]?.stringValue
            let candidates = nodeNames.filter { selector == nil || $0 == selector }
            guard
                let node = candidates.min(by: { a, b in
                    let countA = pods.filter { $0["spec"]?["nodeName"]?.stringValue == a }.count
                    let countB = pods.filter { $0["spec"]?["nodeName"]?.stringValue == b }.count
                    return (countA, a) < (countB, b)
                })
            else { continue }
            guard let name = pod["metadata"]?["name"]?.stringValue else { continue }
            let bound = try context.client.patch(
                .pods, namespace: pod["metadata"]?["namespace"]?.stringValue, name: name,
                mergePatch: .object(["spec": .object(["nodeName": .string(node)])]))
            pods = pods.map { $0["metadata"]?["uid"] == bound["metadata"]?["uid"] ? bound : $0 }
        }
        try reconcileDaemonSets(pods: pods)
        reconcileKubelets(pods: pods)
        try reconcileEndpointSlices(pods: pods)
    }

    private func reconcileDaemonSets(pods: [JSONValue]) throws {
        for daemonSet in try context.client.list(.daemonSets).items {
            guard let uid = daemonSet["metadata"]?["uid"], let name = daemonSet["metadata"]?["name"]?.stringValue,
                daemonSet["metadata"]?["deletionTimestamp"] == nil
            else { continue }
            let namespace = daemonSet["metadata"]?["namespace"]?.stringValue
            let owned = pods.filter { pod in
                pod["metadata"]?["ownerReferences"]?.arrayValue?.contains { $0["uid"] == uid } ?? false
            }
            let decision = DaemonSetRollout.decide(
                daemonSet: daemonSet, nodes: nodes.map(\.name), pods: owned, now: Date())
            for node in decision.create {
                let pod = DaemonSetRollout.pod(for: daemonSet, node: node)
                _ = try context.client.create(.pods, namespace: namespace, object: pod)
                log("daemonset \(name): created a pod on \(node)")
            }
            for pod in decision.delete {
                guard let podName = pod["metadata"]?["name"]?.stringValue else { continue }
                _ = try? context.client.delete(.pods, namespace: namespace, name: podName)
                log("daemonset \(name): deleting pod \(podName) (rolling update)")
            }
            if daemonSet["status"] != decision.status {
                _ = try context.client.patch(
                    .daemonSets, namespace: namespace, name: name, mergePatch: .object(["status": decision.status]),
                    subresource: "status")
            }
        }
    }

    private func reconcileKubelets(pods: [JSONValue]) {
        var seen = Set<String>()
        for pod in pods {
            guard let uid = pod["metadata"]?["uid"]?.stringValue, let nodeName = pod["spec"]?["nodeName"]?.stringValue,
                let node = nodes.first(where: { $0.name == nodeName })
            else { continue }
            let phase = pod["status"]?["phase"]?.stringValue
            seen.insert(uid)
            if let worker = workers[uid] {
                worker.update(pod)
                if pod["metadata"]?["deletionTimestamp"] != nil {
                    worker.terminate(grace: Double(pod["metadata"]?["deletionGracePeriodSeconds"]?.intValue ?? 30))
                }
                continue
            }
            if pod["metadata"]?["deletionTimestamp"] != nil {
                // Never started here (e.g. the emulator restarted): nothing to stop.
                _ = try? context.client.send(
                    "DELETE",
                    APIResource.pods.objectPath(
                        namespace: pod["metadata"]?["namespace"]?.stringValue,
                        name: pod["metadata"]?["name"]?.stringValue ?? ""),
                    query: ["gracePeriodSeconds": "0"], what: "delete pod")
                continue
            }
            if phase == "Succeeded" || phase == "Failed" { continue }
            // One hostNetwork pod of a DaemonSet per node at a time: a replacement waits for the old one.
            let worker = PodWorker(context: context, node: node.name, nodeAddress: node.address, pod: pod)
            if worker.hostNetwork,
                workers.values.contains(where: { $0.node == node.name && $0.hostNetwork && !$0.finished })
            {
                continue
            }
            workers[uid] = worker
            worker.start()
            log("\(node.name): starting pod \(worker.namespace)/\(worker.name)")
        }
        // Pods gone from the API (deleted at once): stop them.
        for (uid, worker) in workers where !seen.contains(uid) {
            worker.terminate(grace: 0)
            if worker.finished { workers[uid] = nil }
        }
    }

    /// One EndpointSlice per Service with a selector (`<service>-lab`): its pods' addresses, ready as their
    /// Ready condition, terminating while being deleted.
    private func reconcileEndpointSlices(pods: [JSONValue]) throws {
        let services = try context.client.list(.services).items
        let slices = try context.client.list(.endpointSlices).items
        for service in services {
            guard let selector = service["spec"]?["selector"]?.objectValue, !selector.isEmpty,
                let name = service["metadata"]?["name"]?.stringValue,
                let namespace = service["metadata"]?["namespace"]?.stringValue
            else { continue }
            let members = pods.filter { pod in
                pod["metadata"]?["namespace"]?.stringValue == namespace && pod["status"]?["podIP"] != nil
                    && selector.allSatisfy { pod["metadata"]?["labels"]?[$0.key] == $0.value }
            }
            var endpoints: [JSONValue] = []
            for pod in members {
                let ready =
                    pod["status"]?["conditions"]?.arrayValue?.contains {
                        $0["type"] == "Ready" && $0["status"] == "True"
                    } ?? false
                let terminating = pod["metadata"]?["deletionTimestamp"] != nil
                endpoints.append(
                    .object([
                        "addresses": .array([pod["status"]?["podIP"] ?? ""]),
                        "conditions": .object([
                            "ready": .bool(ready && !terminating), "serving": .bool(ready),
                            "terminating": .bool(terminating),
                        ]),
                        "nodeName": pod["spec"]?["nodeName"] ?? "",
                        "targetRef": .object([
                            "kind": "Pod", "namespace": .string(namespace), "name": pod["metadata"]?["name"] ?? "",
                            "uid": pod["metadata"]?["uid"] ?? "",
                        ]),
                    ]))
            }
            let ports: [JSONValue] = (service["spec"]?["ports"]?.arrayValue ?? []).map { port in
                var target = port["targetPort"] ?? port["port"] ?? .null
                if let named = target.stringValue {
                    let containerPort = members.lazy.compactMap { pod in
                        (pod["spec"]?["containers"]?.arrayValue ?? []).lazy.compactMap { container in
                            container["ports"]?.arrayValue?.first { $0["name"]?.stringValue == named }?["containerPort"]
                        }.first
                    }.first
                    target = containerPort ?? .null
                }
                // A named target port no pod has yet stays open (no port), as the controller leaves it.
                var entry: [String: JSONValue] = ["protocol": port["protocol"] ?? "TCP"]
                if target.intValue != nil { entry["port"] = target }
                if let portName = port["name"] { entry["name"] = portName }
                return .object(entry)
            }
            let sliceName = "\(name)-lab"
            var slice: JSONValue = .object([
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": .object([
                    "name": .string(sliceName), "namespace": .string(namespace),
                    "labels": .object([
                        "kubernetes.io/service-name": .string(name),
                        "endpointslice.kubernetes.io/managed-by": "kube-router-lab",
                    ]),
                ]),
                "addressType": "IPv4", "endpoints": .array(endpoints), "ports": .array(ports),
            ])
            if let existing = slices.first(where: {
                $0["metadata"]?["namespace"]?.stringValue == namespace
                    && $0["metadata"]?["name"]?.stringValue == sliceName
            }) {
                if existing["endpoints"] != slice["endpoints"] || existing["ports"] != slice["ports"] {
                    slice["metadata"]?["resourceVersion"] = existing["metadata"]?["resourceVersion"]
                    _ = try context.client.update(.endpointSlices, namespace: namespace, name: sliceName, object: slice)
                }
            } else {
                _ = try context.client.create(.endpointSlices, namespace: namespace, object: slice)
            }
        }
    }
}
