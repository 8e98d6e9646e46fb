import Foundation
import KubeModel

/// A pod's status as the kubelet reports it: phase, addresses, conditions with their transition times
/// (a DaemonSet's availability counts from the Ready condition's), and per-container states, so that
/// `kubectl get pods` shows Running/ContainerCreating/Init:0/1/CrashLoopBackOff and READY 1/1.
struct PodStatusBuilder {
    private var phase = "Pending"
    private var hostIP: String
    private var podIPs: [String] = []
    private var startTime = LabContext.timestamp()
    private var conditions: [String: (status: Bool, since: String, reason: String?)] = [:]
    private var initStates: [JSONValue]
    private var initNames: [String]
    private var initImages: [String]
    private var states: [JSONValue]
    private var names: [String]
    private var images: [String]
    private var readiness: [Bool]
    private var started: [Bool]
    private var restartCounts: [Int]
    private var lastStates: [JSONValue]
    private var message: String?
    private var reason: String?
    var changed = true

    init(pod: JSONValue, hostIP: String) {
        self.hostIP = hostIP
        let initContainers = pod["spec"]?["initContainers"]?.arrayValue ?? []
        let containers = pod["spec"]?["containers"]?.arrayValue ?? []
        initNames = initContainers.map { $0["name"]?.stringValue ?? "" }
        initImages = initContainers.map { $0["image"]?.stringValue ?? "" }
        names = containers.map { $0["name"]?.stringValue ?? "" }
        images = containers.map { $0["image"]?.stringValue ?? "" }
        let creating: JSONValue = .object(["waiting": .object(["reason": "PodInitializing"])])
        initStates = Array(repeating: creating, count: initNames.count)
        states = Array(repeating: creating, count: names.count)
        readiness = Array(repeating: false, count: names.count)
        started = Array(repeating: false, count: names.count)
        restartCounts = Array(repeating: 0, count: names.count)
        lastStates = Array(repeating: .object([:]), count: names.count)
        set("PodScheduled", true)
        set("Initialized", initNames.isEmpty)
        set("ContainersReady", false, reason: "ContainersNotReady")
        set("Ready", false, reason: "ContainersNotReady")
    }

    private mutating func set(_ type: String, _ status: Bool, reason: String? = nil) {
        if let old = conditions[type], old.status == status { return }
        conditions[type] = (status, LabContext.timestamp(), reason)
        changed = true
    }

    private mutating func assign<T: Equatable>(_ value: T, to keyPath: WritableKeyPath<Self, T>) {
        if self[keyPath: keyPath] != value {
            self[keyPath: keyPath] = value
            changed = true
        }
    }

    mutating func waiting(reason: String, message: String) {
        for index in states.indices {
            assign(
                .object(["waiting": .object(["reason": .string(reason), "message": .string(message)])]),
                to: \.states[index])
        }
    }

    mutating func sandboxReady(podIPs: [String]) {
        assign(podIPs, to: \.podIPs)
        let initializing: JSONValue = .object(["waiting": .object(["reason": "PodInitializing"])])
        for index in states.indices { assign(initializing, to: \.states[index]) }
    }

    mutating func initRunning(_ index: Int) {
        assign(.object(["running": .object(["startedAt": .string(LabContext.timestamp())])]), to: \.initStates[index])
    }

    mutating func initDone(_ index: Int) {
        assign(
            .object(["terminated": .object(["exitCode": .int(0), "reason": "Completed"])]), to: \.initStates[index])
        if index == initStates.count - 1 { set("Initialized", true) }
    }

    mutating func initFailed(_ index: Int, exitCode: Int, message: String) {
        assign(
            .object([
                "terminated": .object([
                    "exitCode": .int(Int64(exitCode)), "reason": "Error", "message": .string(message),
                ])
            ]), to: \.initStates[index])
    }

    mutating func containerRunning(_ index: Int, since: Date, restarts: Int) {
        assign("Running", to: \.phase)
        assign(max(restarts, 0), to: \.restartCounts[index])
        assign(.object(["running": .object(["startedAt": .string(LabContext.timestamp(since))])]), to: \.states[index])
        updateReady()
    }

    mutating func containerWaiting(_ index: Int, reason: String, message: String) {
        assign(
            .object(["waiting": .object(["reason": .string(reason), "message": .string(message)])]), to: \.states[index]
        )
        assign(false, to: \.readiness[index])
        updateReady()
    }

    mutating func containerExited(_ index: Int, exitCode: Int, at date: Date) {
        let terminated: JSONValue = .object([
            "terminated": .object([
                "exitCode": .int(Int64(exitCode)), "reason": .string(exitCode == 0 ? "Completed" : "Error"),
                "finishedAt": .string(LabContext.timestamp(date)),
            ])
        ])
        assign(terminated, to: \.lastStates[index])
        assign(
            .object([
                "waiting": .object(["reason": "CrashLoopBackOff", "message": "back-off restarting the container"])
            ]),
            to: \.states[index])
        assign(false, to: \.readiness[index])
        assign(false, to: \.started[index])
        updateReady()
    }

    mutating func containerProbed(_ index: Int, started isStarted: Bool, ready: Bool) {
        assign(isStarted, to: \.started[index])
        assign(ready, to: \.readiness[index])
        updateReady()
    }

    mutating func finished(failed: Bool) {
        assign(failed ? "Failed" : "Succeeded", to: \.phase)
    }

    private mutating func updateReady() {
        let all = !readiness.isEmpty && readiness.allSatisfy { $0 }
        set("ContainersReady", all, reason: all ? nil : "ContainersNotReady")
        set("Ready", all, reason: all ? nil : "ContainersNotReady")
    }

    var value: JSONValue {
        var status: [String: JSONValue] = [
            "phase": .string(phase), "hostIP": .string(hostIP), "hostIPs": .array([.object(["ip": .string(hostIP)])]),
            "startTime": .string(startTime), "qosClass": "Burstable",
        ]
        if let first = podIPs.first {
            status["podIP"] = .string(first)
            status["podIPs"] = .array(podIPs.map { .object(["ip": .string($0)]) })
        }
        status["conditions"] = .array(
            ["PodScheduled", "Initialized", "ContainersReady", "Ready"].compactMap { type in
                guard let condition = conditions[type] else { return nil }
                var object: [String: JSONValue] = [
                    "type": .string(type), "status": condition.status ? "True" : "False",
                    "lastTransitionTime": .string(condition.since),
                ]
                if let reason = condition.reason { object["reason"] = .string(reason) }
                return .object(object)
            })
        func container(
            _ name: String, _ image: String, _ state: JSONValue, ready: Bool, started: Bool?, restarts: Int,
            last: JSONValue
        ) -> JSONValue {
            var object: [String: JSONValue] = [
                "name": .string(name), "image": .string(image), "imageID": "", "ready": .bool(ready),
                "restartCount": .int(Int64(restarts)), "state": state, "lastState": last,
            ]
            if let started { object["started"] = .bool(started) }
            return .object(object)
        }
        if !initNames.isEmpty {
            status["initContainerStatuses"] = .array(
                initNames.indices.map {
                    let done = initStates[$0]["terminated"]?["exitCode"] == .int(0)
                    return container(
                        initNames[$0], initImages[$0], initStates[$0], ready: done, started: nil, restarts: 0,
                        last: .object([:]))
                })
        }
        status["containerStatuses"] = .array(
            names.indices.map {
                container(
                    names[$0], images[$0], states[$0], ready: readiness[$0], started: started[$0],
                    restarts: restartCounts[$0], last: lastStates[$0])
            })
        return .object(status)
    }
}
