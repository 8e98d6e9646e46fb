import Foundation
import Kernel
import Planning
import Speaker
import TestSupport

/// The agent as a process in a node's network namespace, with its log for tests to wait on.
final class AgentRun: @unchecked Sendable {
    private let process = Process()
    private let condition = NSCondition()
    private var text = ""
    private var ended = false

    /// `environment`: added to the test's (the DaemonSet's `NODE_NAME`).
    init(netns: String, arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", netns, builtExecutable("kube-router").path] + arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let handle = err.fileHandleForReading
        Thread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                condition.withLock {
                    text += String(decoding: chunk, as: UTF8.self)
                    condition.broadcast()
                }
            }
            condition.withLock {
                ended = true
                condition.broadcast()
            }
        }.start()
    }

    var log: String { condition.withLock { text } }

    /// Waits until `predicate` holds for the log so far (checked at each new output), or the agent
    /// exits, or `timeout` passes; returns whether it holds.
    func waitUntil(timeout: Double, _ predicate: (String) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        return condition.withLock {
            while !predicate(text) && !ended { if !condition.wait(until: deadline) { break } }
            return predicate(text)
        }
    }

    func waitFor(_ text: String, timeout: Double = 15) -> Bool { waitUntil(timeout: timeout) { $0.contains(text) } }

    /// The agent's pid (`ip netns exec` execs it in place).
    var pid: Int32 { process.processIdentifier }

    /// Whether the agent still runs (it has not exited, by a signal or otherwise).
    var isRunning: Bool { process.isRunning }

    /// Waits until this agent's status file in `stateDir` satisfies `predicate` (a file an earlier agent
    /// left does not count), or the agent exits, or `timeout` passes.
    func waitForStatus<T: StatusFile>(
        _ type: T.Type, stateDir: String, timeout: Double = 30, _ predicate: (T) -> Bool
    ) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            if let status = T.read(stateDir: stateDir), status.pid == pid, predicate(status) { return true }
            let over = condition.withLock { ended } || Date() >= deadline
            if over { return false }
            usleep(20_000)
        }
    }

    /// The agent's BGP peers, asked over its control socket in `stateDir` (what `krctl bgp peers` shows);
    /// nil while it does not answer.
    func bgpPeers(stateDir: String) -> [BGPSpeaker.PeerStatus]? {
        let path = stateDir + "/" + ControlSocket.fileName
        guard let data = try? ControlSocket.ask(path: path, "bgp peers", timeout: 2) else { return nil }
        return try? JSONDecoder().decode([BGPSpeaker.PeerStatus].self, from: data)
    }

    /// Waits until the agent's peer `address` satisfies `predicate` (by default: Established), or the agent
    /// exits, or `timeout` passes: on the agent's state, asked over the control socket, not on its log.
    func waitForPeer(
        _ address: String, stateDir: String, timeout: Double = 20,
        _ predicate: (BGPSpeaker.PeerStatus) -> Bool = { $0.state == "Established" }
    ) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            let peer = bgpPeers(stateDir: stateDir)?.first { $0.address == address }
            if let peer, predicate(peer) { return true }
            let over = condition.withLock { ended } || Date() >= deadline
            if over { return false }
            usleep(50_000)
        }
    }

    /// SIGTERM, then SIGKILL: a signal mask inherited from the test runner may block SIGTERM.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date(timeIntervalSinceNow: 10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Sends `signal` and waits up to `timeout` seconds for the agent to exit: its exit status and how long
    /// it took, or nil when it was still running (then it is killed).
    func terminate(_ signal: Int32 = SIGTERM, timeout: Double) -> (status: Int32, seconds: Double)? {
        let start = Date()
        kill(process.processIdentifier, signal)
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        process.waitUntilExit()
        return (process.terminationStatus, Date().timeIntervalSince(start))
    }

    deinit { stop() }
}
