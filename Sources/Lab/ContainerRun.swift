import Foundation
import Kernel
import KubeModel

/// One container of a pod as a process: its command and args from the spec (the image is not unpacked:
/// the host's file system, with our binaries first on PATH, stands in for it), in the pod's network
/// namespace, with its volume mounts as bind mounts in a mount namespace of its own; output to a log file
/// in the pod's folder. Its probes' state lives here too. Used from the pod's thread only, except
/// `exitStatus`, which the process's termination handler sets.
final class ContainerRun: @unchecked Sendable {
    let spec: JSONValue
    let name: String
    private unowned let worker: PodWorker
    private let sandbox: PodWorker.Sandbox
    private let mounts: [Mount]
    private var process: Process?
    private let exit = Locked<Int32?>(nil)

    var restarts = -1
    var exitRecorded = false
    var nextStart = Date.distantPast
    private var backoff = 1.0
    private var startedAt = Date()

    // Probe state, as the kubelet keeps it.
    var started = false
    var ready = false
    var livenessFailed = false
    private var probes: (startup: Probe?, readiness: Probe?, liveness: Probe?)
    private var nextProbe: [String: Date] = [:]
    private var successes: [String: Int] = [:]
    private var failures: [String: Int] = [:]

    init(spec: JSONValue, worker: PodWorker, sandbox: PodWorker.Sandbox, mounts: [String: [Mount]]) {
        self.spec = spec
        self.name = spec["name"]?.stringValue ?? "container"
        self.worker = worker
        self.sandbox = sandbox
        self.mounts = mounts[name] ?? []
        var ports: [String: Int] = [:]
        for port in spec["ports"]?.arrayValue ?? [] {
            if let portName = port["name"]?.stringValue, let number = port["containerPort"]?.intValue {
                ports[portName] = number
            }
        }
        let host = sandbox.podIPs.first ?? "127.0.0.1"
        probes = (
            Probe(spec["startupProbe"], podIP: host, ports: ports),
            Probe(spec["readinessProbe"], podIP: host, ports: ports),
            Probe(spec["livenessProbe"], podIP: host, ports: ports)
        )
    }

    var exitStatus: Int32? { exit.get() }
    var logFile: String { "\(worker.context.layout.podDir(node: worker.node, uid: worker.uid))/\(name).log" }

    /// Starts (or restarts) the process.
    func launch() throws {
        restarts += 1
        exitRecorded = false
        exit.set(nil)
        started = probes.startup == nil
        ready = false
        livenessFailed = false
        nextProbe = [:]
        successes = [:]
        failures = [:]
        startedAt = Date()
        let argv =
            (spec["command"]?.arrayValue ?? []).compactMap(\.stringValue)
            + (spec["args"]?.arrayValue ?? []).compactMap(\.stringValue)
        // Without a command the image's entrypoint would run, which the lab does not have: the container
        // then only holds its place, as a pause container does.
        let command = argv.isEmpty ? ["sleep", "infinity"] : argv
        let workdir =
            spec["workingDir"]?.stringValue ?? worker.context.layout.podDir(node: worker.node, uid: worker.uid)
        let script = mounts.shellPrefix + "cd \(Shell.quote(workdir)) && exec \"$@\""
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", sandbox.netns, "/bin/sh", "-c", script, "sh"] + command
        process.environment = try worker.environment(for: spec, podIPs: sandbox.podIPs)
        if !FileManager.default.fileExists(atPath: logFile) {
            FileManager.default.createFile(atPath: logFile, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { [exit] process in
            let code = process.terminationStatus
            exit.set(process.terminationReason == .uncaughtSignal ? 128 + code : code)
        }
        try process.run()
        try? log.close()
        self.process = process
    }

    /// A start that failed counts as an exit with the backoff.
    func failedToStart() {
        exit.set(128)
        exitRecorded = true
        scheduleRestart()
    }

    /// After an exit: the next start waits 1, 2, 4, 8, 10 s (reset after 10 s of running).
    func scheduleRestart() {
        if Date().timeIntervalSince(startedAt) > 10 { backoff = 1 }
        nextStart = Date().addingTimeInterval(backoff)
        backoff = min(backoff * 2, 10)
    }

    func signal(_ signal: Int32) {
        guard let process, exitStatus == nil else { return }
        Foundation.kill(process.processIdentifier, signal)
    }

    /// SIGTERM, then SIGKILL after `grace` seconds; waits for the exit.
    func kill(grace: Double) {
        guard let process, exitStatus == nil else { return }
        if grace > 0 {
            signal(SIGTERM)
            let deadline = Date().addingTimeInterval(grace)
            while exitStatus == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        }
        if exitStatus == nil { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        exit.mutate { $0 = $0 ?? 137 }
    }

    /// The last lines of the container's log (for a failed init container's message).
    func logTail(lines: Int = 5) -> String {
        guard let data = FileManager.default.contents(atPath: logFile) else { return "" }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Runs the probes that are due. Startup first; readiness and liveness only once started.
    func probe(now: Date) {
        if !started, let startup = probes.startup {
            switch run(startup, key: "startup", now: now) {
            case true?: started = true
            case false?: livenessFailed = true
            case nil: break
            }
            return
        }
        started = true
        if let readiness = probes.readiness {
            if let result = run(readiness, key: "readiness", now: now) { ready = result }
        } else {
            ready = true
        }
        if let liveness = probes.liveness, run(liveness, key: "liveness", now: now) == false {
            livenessFailed = true
        }
    }

    /// One probe if due: true after successThreshold successes in a row, false after failureThreshold
    /// failures in a row, nil while undecided or not due.
    private func run(_ probe: Probe, key: String, now: Date) -> Bool? {
        let due = nextProbe[key] ?? startedAt.addingTimeInterval(probe.initialDelay)
        guard now >= due else { return nil }
        nextProbe[key] = now.addingTimeInterval(probe.period)
        if probe.check(netns: sandbox.netns) {
            failures[key] = 0
            successes[key, default: 0] += 1
            return successes[key, default: 0] >= probe.successThreshold ? true : nil
        }
        successes[key] = 0
        failures[key, default: 0] += 1
        return failures[key, default: 0] >= probe.failureThreshold ? false : nil
    }
}
