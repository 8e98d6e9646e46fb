import ArgumentParser
import Foundation
import KubeAPI
import Synchronization

private let stopRequested = Atomic<Bool>(false)

/// The lab's control plane and kubelets, started by `up` in the control plane's namespace: kube-test-server
/// (TLS, RBAC, graceful pod deletion) as a child, then the emulator until SIGTERM.
struct LabServe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "The lab's API server and node emulator (started by up).",
        shouldDisplay: false)

    @OptionGroup var lab: LabOptions

    /// The running emulator's pid, if it runs.
    static func running(_ layout: LabLayout) -> Int32? {
        guard let text = try? String(contentsOfFile: "\(layout.root)/serve.pid", encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), kill(pid, 0) == 0
        else { return nil }
        return pid
    }

    func run() throws {
        let layout = try lab.layout()
        let record = try LabRecord.load(layout)
        // A session of its own: the terminal that ran `up` may close.
        _ = setsid()
        unblockSignals()
        try "\(getpid())\n".write(toFile: "\(layout.root)/serve.pid", atomically: true, encoding: .utf8)
        signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }
        signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }

        var arguments = [
            "--listen", "\(layout.apiAddress):\(layout.apiPort)", "--tls-cert", "\(layout.pki)/server.crt",
            "--tls-key", "\(layout.pki)/server.key", "--client-ca", "\(layout.pki)/ca.crt", "--rbac",
            "--graceful-pod-deletion", "--service-cluster-ip-range", "10.96.0.0/12", "--state",
            "\(layout.root)/api-state.json",
        ]
        for (account, token) in record.tokens.sorted(by: { $0.key < $1.key }) {
            arguments += ["--token", "\(token):\(account)"]
        }
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "\(record.binDir)/kube-test-server")
        server.arguments = arguments
        _ = FileManager.default.createFile(atPath: layout.apiLog, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: layout.apiLog))
        server.standardOutput = log
        server.standardError = log
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }

        let config = KubeConfig(
            server: layout.apiURL, certificateAuthority: FileManager.default.contents(atPath: "\(layout.pki)/ca.crt"),
            clientCertificate: FileManager.default.contents(atPath: "\(layout.pki)/admin.crt"),
            clientKey: FileManager.default.contents(atPath: "\(layout.pki)/admin.key"), user: "admin",
            context: "lab", origin: "the lab's admin")
        let context = LabContext(
            layout: layout, client: KubeClient(config: config, requestTimeout: 10), tokens: record.tokens,
            binDir: record.binDir, mountPoints: HostMountPoints(file: layout.hostPathsFile))
        let emulator = Emulator(context: context, nodeCount: record.nodes)
        var registered = false
        while !registered && !stopRequested.load(ordering: .relaxed) {
            guard server.isRunning else { throw LabError("kube-test-server exited: see \(layout.apiLog)") }
            do {
                try emulator.registerNodes()
                try emulator.registerAPIService()
                registered = true
            } catch {
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        emulator.log("nodes registered; running")
        emulator.run { stopRequested.load(ordering: .relaxed) || !server.isRunning }
        emulator.log("stopped")
    }
}
