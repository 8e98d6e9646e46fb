import Foundation
import KubeAPI
import KubeModel

/// Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), so that `kubectl get`
/// shows the columns kube-apiserver's printers give: pods' READY, STATUS, RESTARTS, IP and NODE; nodes'
/// STATUS and addresses; DaemonSets' counts; services' addresses and ports. Other kinds get NAME and AGE.
/// Columns of priority 1 appear with `-o wide`.
enum TablePrinter {
    struct Column {
        var name: String
        var type = "string"
        var priority = 0
        var description = ""
    }

    static func table(_ resource: APIResource, objects: [JSONValue], listMetadata: JSONValue) -> JSONValue {
        let (columns, cells) = printer(resource)
        let now = Date()
        return .object([
            "kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": .object(
                ["resourceVersion": listMetadata["resourceVersion"] ?? ""].merging(
                    listMetadata["continue"].map { ["continue": $0] } ?? [:]
                ) { a, _ in a }),
            "columnDefinitions": .array(
                columns.map {
                    .object([
                        "name": .string($0.name), "type": .string($0.type), "format": $0.name == "Name" ? "name" : "",
                        "description": .string($0.description), "priority": .int(Int64($0.priority)),
                    ])
                }),
            "rows": .array(
                objects.map { item in
                    // Items of a list carry no kind; a row's object must.
                    var object = item
                    object["kind"] = .string(resource.kind)
                    object["apiVersion"] = .string(resource.apiVersion)
                    return .object(["cells": .array(cells(object, now)), "object": object])
                }),
        ])
    }

    private typealias Cells = @Sendable (JSONValue, Date) -> [JSONValue]

    private static func printer(_ resource: APIResource) -> ([Column], Cells) {
        switch resource.kind {
        case "Pod": return pods
        case "Node": return nodes
        case "DaemonSet": return daemonSets
        case "Service": return services
        case "Namespace":
            return (
                [Column(name: "Name"), Column(name: "Status"), Column(name: "Age")],
                { object, now in
                    [name(object), object["status"]?["phase"] ?? "Active", age(object, now)]
                }
            )
        default:
            return ([Column(name: "Name"), Column(name: "Age")], { object, now in [name(object), age(object, now)] })
        }
    }

    private static func name(_ object: JSONValue) -> JSONValue { object["metadata"]?["name"] ?? "" }

    private static func age(_ object: JSONValue, _ now: Date) -> JSONValue {
        guard let text = object["metadata"]?["creationTimestamp"]?.stringValue, let created = Timestamp.date(text)
        else { return "<unknown>" }
        return .string(humanDuration(now.timeIntervalSince(created)))
    }

    /// kubectl's HumanDuration: 45s, 3m12s, 25m, 5h3m, 3d4h, 45d, 2y30d.
    static func humanDuration(_ interval: TimeInterval) -> String {
        let seconds = max(Int(interval), 0)
        if seconds < 60 * 2 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s" }
        if minutes < 60 * 3 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 { return hours % 24 == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(hours % 24)h" }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        return "\(hours / 24 / 365)y\((hours / 24) % 365)d"
    }

    private static let pods: ([Column], Cells) = (
        [
            Column(name: "Name"), Column(name: "Ready"), Column(name: "Status"),
            Column(name: "Restarts", type: "string"), Column(name: "Age"),
            Column(name: "IP", priority: 1), Column(name: "Node", priority: 1),
            Column(name: "Nominated Node", priority: 1), Column(name: "Readiness Gates", priority: 1),
        ],
        { pod, now in
            let statuses = pod["status"]?["containerStatuses"]?.arrayValue ?? []
            let total = pod["spec"]?["containers"]?.arrayValue?.count ?? statuses.count
            let ready = statuses.filter { $0["ready"] == .bool(true) }.count
            let restarts = statuses.reduce(0) { $0 + ($1["restartCount"]?.intValue ?? 0) }
            return [
                name(pod), .string("\(ready)/\(total)"), .string(podStatus(pod)), .string(String(restarts)),
                age(pod, now), pod["status"]?["podIP"] ?? "<none>", pod["spec"]?["nodeName"] ?? "<none>", "<none>",
                "<none>",
            ]
        }
    )

    /// The STATUS column as kubectl's printPod computes it.
    static func podStatus(_ pod: JSONValue) -> String {
        var reason = pod["status"]?["reason"]?.stringValue ?? pod["status"]?["phase"]?.stringValue ?? "Pending"
        let initStatuses = pod["status"]?["initContainerStatuses"]?.arrayValue ?? []
        var initializing = false
        for (index, status) in initStatuses.enumerated() {
            let state = status["state"]
            if let terminated = state?["terminated"], terminated["exitCode"]?.intValue == 0 { continue }
            if let terminated = state?["terminated"] {
                let why = terminated["reason"]?.stringValue
                reason = "Init:" + (why ?? "ExitCode:\(terminated["exitCode"]?.intValue ?? 0)")
            } else if let why = state?["waiting"]?["reason"]?.stringValue, why != "PodInitializing" {
                reason = "Init:" + why
            } else {
                reason = "Init:\(index)/\(initStatuses.count)"
            }
            initializing = true
            break
        }
        if !initializing {
            var running = false
            for status in (pod["status"]?["containerStatuses"]?.arrayValue ?? []).reversed() {
                let state = status["state"]
                if let why = state?["waiting"]?["reason"]?.stringValue {
                    reason = why
                } else if let terminated = state?["terminated"] {
                    reason = terminated["reason"]?.stringValue ?? "ExitCode:\(terminated["exitCode"]?.intValue ?? 0)"
                } else if state?["running"] != nil, status["ready"] == .bool(true) {
                    running = true
                }
            }
            if reason == "Completed" && running { reason = "Running" }
        }
        if pod["metadata"]?["deletionTimestamp"] != nil { reason = "Terminating" }
        return reason
    }

    private static let nodes: ([Column], Cells) = (
        [
            Column(name: "Name"), Column(name: "Status"), Column(name: "Roles"), Column(name: "Age"),
            Column(name: "Version"), Column(name: "Internal-IP", priority: 1),
            Column(name: "External-IP", priority: 1), Column(name: "OS-Image", priority: 1),
            Column(name: "Kernel-Version", priority: 1), Column(name: "Container-Runtime", priority: 1),
        ],
        { node, now in
            let ready = node["status"]?["conditions"]?.arrayValue?.first { $0["type"] == "Ready" }
            var status = ready?["status"] == "True" ? "Ready" : (ready == nil ? "Unknown" : "NotReady")
            if node["spec"]?["unschedulable"] == .bool(true) { status += ",SchedulingDisabled" }
            let roles = (node["metadata"]?["labels"]?.objectValue ?? [:]).keys
                .filter { $0.hasPrefix("node-role.kubernetes.io/") }
                .map { String($0.dropFirst("node-role.kubernetes.io/".count)) }.sorted()
            let addresses = node["status"]?["addresses"]?.arrayValue ?? []
            func address(_ type: String) -> JSONValue {
                addresses.first { $0["type"]?.stringValue == type }?["address"] ?? "<none>"
            }
            let info = node["status"]?["nodeInfo"]
            return [
                name(node), .string(status), .string(roles.isEmpty ? "<none>" : roles.joined(separator: ",")),
                age(node, now), info?["kubeletVersion"] ?? "", address("InternalIP"), address("ExternalIP"),
                info?["osImage"] ?? "<unknown>", info?["kernelVersion"] ?? "<unknown>",
                info?["containerRuntimeVersion"] ?? "<unknown>",
            ]
        }
    )

    private static let daemonSets: ([Column], Cells) = (
        [
            Column(name: "Name"), Column(name: "Desired", type: "integer"), Column(name: "Current", type: "integer"),
            Column(name: "Ready", type: "integer"), Column(name: "Up-to-date", type: "integer"),
            Column(name: "Available", type: "integer"), Column(name: "Node Selector"), Column(name: "Age"),
            Column(name: "Containers", priority: 1), Column(name: "Images", priority: 1),
            Column(name: "Selector", priority: 1),
        ],
        { daemonSet, now in
            let status = daemonSet["status"]
            func count(_ field: String) -> JSONValue { status?[field] ?? .int(0) }
            let selector = (daemonSet["spec"]?["template"]?["spec"]?["nodeSelector"]?.objectValue ?? [:])
                .map { "\($0.key)=\($0.value.stringValue ?? "")" }.sorted().joined(separator: ",")
            let containers = daemonSet["spec"]?["template"]?["spec"]?["containers"]?.arrayValue ?? []
            let matchLabels = (daemonSet["spec"]?["selector"]?["matchLabels"]?.objectValue ?? [:])
                .map { "\($0.key)=\($0.value.stringValue ?? "")" }.sorted().joined(separator: ",")
            return [
                name(daemonSet), count("desiredNumberScheduled"), count("currentNumberScheduled"),
                count("numberReady"), count("updatedNumberScheduled"), count("numberAvailable"),
                .string(selector.isEmpty ? "<none>" : selector), age(daemonSet, now),
                .string(containers.compactMap { $0["name"]?.stringValue }.joined(separator: ",")),
                .string(containers.compactMap { $0["image"]?.stringValue }.joined(separator: ",")),
                .string(matchLabels),
            ]
        }
    )

    private static let services: ([Column], Cells) = (
        [
            Column(name: "Name"), Column(name: "Type"), Column(name: "Cluster-IP"), Column(name: "External-IP"),
            Column(name: "Port(s)"), Column(name: "Age"), Column(name: "Selector", priority: 1),
        ],
        { service, now in
            let spec = service["spec"]
            let type = spec?["type"]?.stringValue ?? "ClusterIP"
            var external = (spec?["externalIPs"]?.arrayValue ?? []).compactMap(\.stringValue)
            external += (service["status"]?["loadBalancer"]?["ingress"]?.arrayValue ?? []).compactMap {
                $0["ip"]?.stringValue ?? $0["hostname"]?.stringValue
            }
            let ports = (spec?["ports"]?.arrayValue ?? []).map { port -> String in
                let number = port["port"]?.intValue ?? 0
                let proto = port["protocol"]?.stringValue ?? "TCP"
                if let nodePort = port["nodePort"]?.intValue { return "\(number):\(nodePort)/\(proto)" }
                return "\(number)/\(proto)"
            }
            let selector = (spec?["selector"]?.objectValue ?? [:])
                .map { "\($0.key)=\($0.value.stringValue ?? "")" }.sorted().joined(separator: ",")
            return [
                name(service), .string(type), spec?["clusterIP"] ?? "<none>",
                .string(
                    external.isEmpty
                        ? (type == "LoadBalancer" ? "<pending>" : "<none>") : external.joined(separator: ",")),
                .string(ports.isEmpty ? "<none>" : ports.joined(separator: ",")), age(service, now),
                .string(selector.isEmpty ? "<none>" : selector),
            ]
        }
    )
}
