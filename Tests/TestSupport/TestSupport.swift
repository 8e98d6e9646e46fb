import Foundation
import KubeAPI
import KubeModel
import Testing

@testable import Kernel

/// The repository root, from this file's path.
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Built executables sit next to the test bundle.
public func builtExecutable(_ name: String) -> URL {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return repositoryRoot.appendingPathComponent(".build/debug/\(name)")
}

/// Runs a command to completion and returns (status, stdout, stderr).
@discardableResult
public func run(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil
) throws -> (Int32, String, String) {
    let r = try Subprocess.run(executable, arguments, environment: environment, input: input)
    return (r.status, r.stdout, r.stderr)
}

public typealias LockedBox = Locked

/// A throw-away PKI made with openssl (scripts/make-test-pki), once per test process.
public enum TestPKI {
    public static let directory: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kr-pki-\(getpid())").path
        let (status, _, stderr) = try! run(
            "/bin/bash", [repositoryRoot.appendingPathComponent("scripts/make-test-pki").path, dir])
        precondition(status == 0, "make-test-pki failed: \(stderr)")
        return dir
    }()

    public static func file(_ name: String) -> String { "\(directory)/\(name)" }
    public static func data(_ name: String) -> Data { FileManager.default.contents(atPath: file(name))! }
}

/// A kube-test-server process on a free port, with a state file so that it can be restarted.
public final class TestAPIServer: @unchecked Sendable {
    public let statePath: String
    public let extraArguments: [String]
    public private(set) var port = 0
    private var process: Process?

    /// A command prefix for the server, e.g. `ip netns exec NODE` to run it inside a network namespace.
    public let launcher: [String]

    public init(arguments: [String] = [], launcher: [String] = []) throws {
        statePath =
            FileManager.default.temporaryDirectory.appendingPathComponent("kr-state-\(UUID().uuidString).json").path
        extraArguments = arguments
        self.launcher = launcher
        try start(port: 0)
    }

    public var url: String { "https://127.0.0.1:\(port)" }

    /// Starts the server and returns once it has printed its listening line (no sleeping).
    public func start(port requested: Int) throws {
        let process = Process()
        let server = builtExecutable("kube-test-server").path
        process.executableURL = URL(fileURLWithPath: launcher.first ?? server)
        process.arguments =
            Array(launcher.dropFirst()) + (launcher.isEmpty ? [] : [server]) + [
                "--listen", "127.0.0.1:\(requested)", "--tls-cert", TestPKI.file("server.crt"),
                "--tls-key", TestPKI.file("server.key"), "--client-ca", TestPKI.file("ca.crt"),
                "--token", "s3cret:alice", "--token", "ro-token:mallory", "--forbid", "mallory",
                "--state", statePath, "--test-endpoints",
            ] + extraArguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            guard !byte.isEmpty else { throw KubeAPIError.transport("kube-test-server exited before listening") }
            if byte.first == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let portText = text.split(separator: ":").last, let p = Int(portText) else {
            throw KubeAPIError.transport("unexpected first line from kube-test-server: \(text)")
        }
        port = p
        self.process = process
    }

    public func stop() {
        guard let process else { return }
        process.terminate()
        let deadline = Date(timeIntervalSinceNow: 10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        self.process = nil
    }

    /// Stops and starts again on the same port, with the objects kept in the state file.
    public func restart() throws {
        let p = port
        stop()
        try start(port: p)
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: statePath)
    }

    /// A configuration with the admin client certificate (or a token, or another CA).
    public func config(token: String? = nil, certificateAuthority: Data = TestPKI.data("ca.crt")) -> KubeConfig {
        KubeConfig(
            server: url, certificateAuthority: certificateAuthority,
            clientCertificate: token == nil ? TestPKI.data("admin.crt") : nil,
            clientKey: token == nil ? TestPKI.data("admin.key") : nil,
            token: token, user: token == nil ? "admin" : "token-user", context: "test", origin: "test kubeconfig")
    }

    /// A kubeconfig file for kubectl and krctl (admin's client certificate by file path).
    public func writeKubeconfig(namespace: String? = nil) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kr-kubeconfig-\(UUID().uuidString)")
            .path
        try """
        apiVersion: v1
        kind: Config
        clusters:
        - name: test
          cluster: {server: "\(url)", certificate-authority: \(TestPKI.file("ca.crt"))}
        users:
        - name: admin
          user: {client-certificate: \(TestPKI.file("admin.crt")), client-key: \(TestPKI.file("admin.key"))}
        contexts:
        - name: test
          context: {cluster: test, user: admin\(namespace.map { ", namespace: \($0)" } ?? "")}
        current-context: test
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Returns once a watch of `resource` is open on the server (the server signals it; no polling).
    public func awaitWatch(_ resource: APIResource) throws {
        let answer = try KubeClient(config: config()).send(
            "GET", "/_test/await-watchers", query: ["resource": resource.plural, "count": "1"],
            what: "await watchers")
        #expect((answer["watchers"]?.intValue ?? 0) >= 1, "no watch of \(resource) reached the server")
    }

    /// Calls a /_test/ hook.
    @discardableResult
    public func hook(_ path: String, body: JSONValue? = nil) throws -> JSONValue {
        let client = KubeClient(config: config())
        return try client.send("POST", "/_test/\(path)", body: body?.jsonData(), what: "test hook \(path)")
    }
}

/// Collects informer events and lets a test wait for a condition on them, woken by each event.
public final class EventLog: @unchecked Sendable {
    public init() {}
    private let condition = NSCondition()
    private var events: [InformerEvent] = []

    public var handler: @Sendable (InformerEvent) -> Void {
        { [self] event in
            condition.withLock {
                events.append(event)
                condition.broadcast()
            }
        }
    }

    public var all: [InformerEvent] { condition.withLock { events } }

    public var problems: [String] {
        all.compactMap {
            switch $0 {
            case .problem(let p): p
            case .rejected(let r): "rejected: \(r.object): \(r)"
            default: nil
            }
        }
    }

    public var rejections: [ObjectRejection] {
        all.compactMap { if case .rejected(let r) = $0 { r } else { nil } }
    }

    /// Waits until `predicate` holds (re-checked at every event), or `timeout` seconds pass.
    @discardableResult
    public func wait(timeout: Double = 20, _ predicate: () -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            condition.unlock()
            let ok = predicate()
            condition.lock()
            if ok { return true }
            if !condition.wait(until: deadline) {
                condition.unlock()
                let final = predicate()
                condition.lock()
                return final
            }
        }
    }
}

/// A pod manifest as JSON.
public func podJSON(
    _ namespace: String, _ name: String, ip: String, labels: [String: String] = [:], node: String = "node-a"
) -> JSONValue {
    var labelObject: [String: JSONValue] = [:]
    for (k, v) in labels { labelObject[k] = .string(v) }
    return .object([
        "apiVersion": "v1", "kind": "Pod",
        "metadata": .object(["name": .string(name), "namespace": .string(namespace), "labels": .object(labelObject)]),
        "spec": .object(["nodeName": .string(node), "containers": .array([.object(["name": "c"])])]),
        "status": .object(["phase": "Running", "podIP": .string(ip)]),
    ])
}

/// A raw client connection to a control socket, as a hostile or impatient local client makes it (the caller
/// closes the descriptor).
public func connectToControlSocket(_ path: String) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = try ControlSocket.address(path)
    let rc = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
    }
    try #require(rc == 0, "connect \(path): \(String(cString: strerror(errno)))")
    return fd
}
