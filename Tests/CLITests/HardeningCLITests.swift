import Foundation
import TestSupport
import Testing

@testable import Kernel
@testable import KubeModel

#if canImport(Glibc)
import Glibc
#endif

private func temporaryDirectory(_ name: String) throws -> String {
    // Unix socket paths are short (108 bytes): keep these under /tmp.
    let path = "/tmp/kr-\(name)-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// The control socket never lets a client harm the agent: one that leaves mid-reply, one that never
/// writes, one that writes too much; and krctl's wait is bounded.
@Suite(.serialized) struct ControlSocketTests {
    @Test func clientsThatLeaveStallOrFloodDoNotStopTheServer() throws {
        let dir = try temporaryDirectory("ctl")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/" + ControlSocket.fileName
        let big = Data(repeating: UInt8(ascii: "x"), count: 32 << 20)
        try ControlSocket.serve(path: path) { command in command == "big" ? big : Data("pong:\(command)".utf8) }

        // Leaves before the 32 MiB reply is read: the server's write fails (EPIPE), this process lives on.
        for _ in 0..<3 {
            let fd = try connectToControlSocket(path)
            _ = "big\n".withCString { send(fd, $0, 4, 0) }
            var byte: UInt8 = 0
            _ = recv(fd, &byte, 1, 0)
            close(fd)
        }
        // Connects and never writes: others are still served, at once.
        let idle = try connectToControlSocket(path)
        defer { close(idle) }
        let clock = ContinuousClock()
        let start = clock.now
        #expect(String(decoding: try ControlSocket.ask(path: path, "ping", timeout: 5), as: UTF8.self) == "pong:ping")
        #expect(clock.now - start < .seconds(2), "an idle client must not block the others")
        // A request longer than the limit is refused with an error, not read for ever.
        let long = String(repeating: "a", count: 4096)
        let reply = String(decoding: try ControlSocket.ask(path: path, long, timeout: 5), as: UTF8.self)
        #expect(reply.contains("request longer than 1024 bytes"), "\(reply.prefix(200))")
        // And a second server on the same path refuses to take the socket over.
        let second = try #require(throws: ControlSocket.Failure.self) {
            try ControlSocket.serve(path: path) { _ in Data() }
        }
        #expect(second.description.contains("another process answers"), "\(second)")
        #expect(String(decoding: try ControlSocket.ask(path: path, "still", timeout: 5), as: UTF8.self) == "pong:still")
    }

    @Test func askTimesOutWithAClearMessage() throws {
        let dir = try temporaryDirectory("ctl-mute")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/" + ControlSocket.fileName
        // A server that accepts (the kernel's backlog does) but never answers.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = try ControlSocket.address(path)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        listen(fd, 4)
        let error = try #require(throws: ControlSocket.Failure.self) {
            try ControlSocket.ask(path: path, "bgp peers", timeout: 1)
        }
        #expect(error.description.contains("did not answer within 1 s"), "\(error)")
        let r = try run(builtExecutable("krctl").path, ["bgp", "peers", "--state-dir", dir, "--request-timeout", "1s"])
        #expect(r.0 == 1 && r.2.contains("did not answer within 1 s"), "\(r.2)")
        #expect(r.2.contains("--request-timeout waits longer"), "names the flag that waits longer: \(r.2)")
    }
}

/// One agent per node and state directory.
@Suite(.serialized) struct StateDirectoryLockTests {
    @Test func aSecondHolderIsRefusedWithThePidOfTheFirst() throws {
        let dir = try temporaryDirectory("lock")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var first: StateDirectoryLock? = try StateDirectoryLock(stateDir: dir)
        let error = try #require(throws: StateDirectoryLock.Held.self) { try StateDirectoryLock(stateDir: dir) }
        #expect(error.pid == getpid())
        // The agent refuses to start beside it, naming the holder.
        let r = try run(
            builtExecutable("kube-router").path,
            [
                "--state-dir", dir, "--kubeconfig", "/nonexistent/kubeconfig",
                "--run-service-proxy=false", "--run-router=false",
            ])
        #expect(
            r.0 == 1 && r.2.contains("kube-router (pid \(getpid())) already runs with this state directory"), "\(r.2)")
        #expect(first != nil)
        first = nil
        // Released: the next agent gets past the lock (and stops at the missing kubeconfig).
        let after = try run(
            builtExecutable("kube-router").path,
            [
                "--state-dir", dir, "--kubeconfig", "/nonexistent/kubeconfig",
                "--run-service-proxy=false", "--run-router=false",
            ])
        #expect(after.0 == 1 && after.2.contains("cannot read kubeconfig"), "\(after.2)")
    }

    /// Two real agents on one state directory: the second exits at once naming the first's pid (before it
    /// touches anything: the socket, the kernel), and the first keeps running and keeps the lock.
    @Test(.enabled(if: geteuid() == 0)) func aSecondAgentOnTheSameStateDirExitsNamingTheFirst() throws {
        let dir = try temporaryDirectory("two")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // An API server that is not there: the first agent waits for it for ever, holding the lock.
        let kubeconfig = try Fixtures.unreachableKubeconfig(in: dir)
        let arguments = [
            "--kubeconfig", kubeconfig, "--state-dir", dir, "--run-service-proxy=false", "--run-router=false",
            "--hostname-override", "node-two", "--health-port", "0", "--metrics-port", "0",
        ]
        let first = try RunningAgent(arguments)
        defer { first.stop() }
        let lock = dir + "/" + StateDirectoryLock.fileName
        func holder() -> String? {
            (try? String(contentsOfFile: lock, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(first.waitUntil(20) { holder() == "\(first.pid)" }, "\(first.log)")

        let clock = ContinuousClock()
        let start = clock.now
        let second = try run(builtExecutable("kube-router").path, arguments)
        let took = clock.now - start
        print("two agents on one state dir: the second exited \(second.0) after \(took)")
        #expect(
            second.0 == 1
                && second.2.contains("kube-router (pid \(first.pid)) already runs with this state directory"),
            "\(second.2)")
        #expect(took < .seconds(5), "the second agent took \(took) to give up")
        #expect(first.isRunning, "the first agent still runs: \(first.log)")
        #expect(holder() == "\(first.pid)", "the lock still names the first agent")
        // Once the first is gone, the kernel has released its lock: a new agent starts.
        first.stop()
        let next = try RunningAgent(arguments)
        defer { next.stop() }
        #expect(next.waitUntil(20) { holder() == "\(next.pid)" }, "\(next.log)")
    }

    /// Without CAP_NET_ADMIN the agent says so at once instead of retrying for ever.
    @Test(.enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
    func withoutNetAdminTheAgentSaysItNeedsRoot() throws {
        let r = try run(
            "/usr/bin/setpriv",
            [
                "--bounding-set=-net_admin", "--inh-caps=-net_admin",
                builtExecutable("kube-router").path, "--kubeconfig", "/nonexistent/kubeconfig",
            ])
        #expect(r.0 == 1 && r.2.contains("needs root (CAP_NET_ADMIN)"), "\(r.2)")
    }
}

/// krctl over hostile manifests: bounded, named, escaped.
@Suite struct HostileManifestCLITests {
    static func manifest(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("krctl-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let namespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"
    static func pod(_ name: String, _ ip: String, _ app: String) -> String {
        "---\napiVersion: v1\nkind: Pod\nmetadata: {name: \(name), namespace: shop, labels: {app: \"\(app)\"}}\n"
            + "spec: {nodeName: n1}\nstatus: {phase: Running, podIP: \(ip)}\n"
    }

    /// The 489-byte "billion laughs" file grew krctl to 1.4 GB in 30 s, then SIGABRT: now exit 1 at once,
    /// within bounds of time and of krctl's peak resident memory (measured by its parent, wait4's rusage).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
    func aliasBombFailsFastWithExitOne() throws {
        let file = try Self.manifest(Fixtures.billionLaughs)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let measure = """
            import resource, subprocess, sys, time
            start = time.monotonic()
            r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
            sys.stderr.write(r.stderr)
            print("%d %d %.3f" % (r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                                  time.monotonic() - start))
            """
        let r = try run(
            "/usr/bin/python3",
            [
                "-c", measure, builtExecutable("krctl").path,
                "explain-policy", "-f", file, "--from", "a/b", "--to", "a/c", "--port", "80",
            ])
        let fields = r.1.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        try #require(fields.count == 3, "\(r)")
        let (status, peakKiB, seconds) = (Int32(fields[0]), Int(fields[1]) ?? -1, Double(fields[2]) ?? -1)
        print("alias bomb: krctl exit \(fields[0]), peak resident \(peakKiB / 1024) MiB, \(fields[2]) s")
        #expect(status == 1 && r.2.contains("more than") && r.2.contains("values"), "\(r.2)")
        #expect(peakKiB > 0 && peakKiB < 150 * 1024, "krctl's peak resident memory: \(peakKiB) KiB")
        #expect(seconds >= 0 && seconds < 5, "krctl took \(seconds) s")
    }

    @Test func aKindTypoIsAnErrorNotASilentAllow() throws {
        let deny =
            "---\napiVersion: networking.k8s.io/v1\nkind: Networkpolicy\nmetadata: {name: deny, namespace: shop}\n"
            + "spec: {podSelector: {}}\n"
        let file = try Self.manifest(
            Self.namespace + Self.pod("a", "10.0.0.1", "a") + Self.pod("b", "10.0.0.2", "b") + deny)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let r = try run(
            builtExecutable("krctl").path,
            ["explain-policy", "-f", file, "--from", "shop/a", "--to", "shop/b", "--port", "80"])
        #expect(r.0 == 1 && r.2.contains("did you mean \"NetworkPolicy\""), "\(r.1)\(r.2)")
    }

    @Test func unknownFieldsWarnAndFailWithStrict() throws {
        let policy =
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\n"
            + "spec: {podSelector: {}, ingres: [{}]}\n"
        let file = try Self.manifest(
            Self.namespace + Self.pod("a", "10.0.0.1", "a") + Self.pod("b", "10.0.0.2", "b") + policy)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let args = ["explain-policy", "-f", file, "--from", "shop/a", "--to", "shop/b", "--port", "80"]
        let lenient = try run(builtExecutable("krctl").path, args)
        #expect(
            lenient.0 == 0 && lenient.2.contains("warning: ") && lenient.2.contains("spec.ingres: unknown field"),
            "\(lenient.2)")
        let strict = try run(builtExecutable("krctl").path, args + ["--strict"])
        #expect(strict.0 == 1 && strict.2.contains("spec.ingres: unknown field"), "\(strict.2)")
    }

    @Test func escapeSequencesInNamesAndLabelsAreShownEscaped() throws {
        let policy =
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\n"
            + "spec: {podSelector: {}, ingress: [{from: [{podSelector: "
            + "{matchLabels: {app: \"\\e]0;pwned\\a\\e[2J\"}}}]}]}\n"
        let file = try Self.manifest(
            Self.namespace + Self.pod("a", "10.0.0.1", "\\e[2Ja") + Self.pod("b", "10.0.0.2", "b") + policy)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let r = try run(
            builtExecutable("krctl").path,
            [
                "explain-policy", "-f", file, "--from", "shop/a", "--to", "shop/b",
                "--port", "80", "--no-color",
            ])
        #expect(r.0 == 0, "\(r.2)")
        #expect(!r.1.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" }, "\(r.1.debugDescription)")
        #expect(r.1.contains(#"\x1b]0;pwned\x07\x1b[2J"#), "\(r.1)")
    }
}

/// What an operator must know about a kubeconfig before the first request: a server over plain http,
/// disabled TLS verification, a token file that is not there (it read as the server's "401 Unauthorized").
@Suite struct InsecureKubeconfigCLITests {
    func kubeconfig(_ dir: String, server: String, insecure: Bool, user: String) throws -> String {
        let path = dir + "/kubeconfig"
        try """
        apiVersion: v1
        kind: Config
        clusters: [{name: c, cluster: {server: "\(server)"\(insecure ? ", insecure-skip-tls-verify: true" : "")}}]
        users: [{name: u, user: \(user)}]
        contexts: [{name: x, context: {cluster: c, user: u}}]
        current-context: x
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func plainHTTPAndAMissingTokenFileAreNamed() throws {
        let dir = try temporaryDirectory("http")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try kubeconfig(
            dir, server: "http://127.0.0.1:9", insecure: false, user: "{tokenFile: \(dir)/missing-token}")
        let r = try run(
            builtExecutable("krctl").path,
            ["explain-policy", "--kubeconfig", config, "--from", "a/b", "--to", "a/c", "--port", "80"])
        #expect(r.0 == 1, "\(r.2)")
        #expect(r.2.contains("warning: the API server http://127.0.0.1:9 is reached over plain http"), "\(r.2)")
        #expect(r.2.contains("the token file \(dir)/missing-token of user \"u\""), "\(r.2)")
        // The temporary directory's random name may hold "401" itself.
        let withoutPaths = r.2.replacingOccurrences(of: dir, with: "")
        #expect(withoutPaths.contains("does not exist") && !withoutPaths.contains("401"), "\(r.2)")
    }

    @Test func disabledTLSVerificationIsWarnedAbout() throws {
        let dir = try temporaryDirectory("insecure")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try kubeconfig(dir, server: "https://127.0.0.1:9", insecure: true, user: "{token: t}")
        let r = try run(
            builtExecutable("krctl").path,
            ["explain-policy", "--kubeconfig", config, "--from", "a/b", "--to", "a/c", "--port", "80"])
        #expect(r.0 == 1, "nothing answers on port 9: \(r.2)")
        #expect(r.2.contains("warning: insecure-skip-tls-verify is set for https://127.0.0.1:9"), "\(r.2)")
    }
}

/// `--log-format json`: one JSON object per line, for log collectors.
@Suite struct AgentLogFormatTests {
    @Test(.enabled(if: geteuid() == 0)) func jsonLinesCarryLevelMessageAndTime() throws {
        let dir = try temporaryDirectory("log")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // An API server that is not there: the agent logs where it is going, then keeps retrying.
        let kubeconfig = try Fixtures.unreachableKubeconfig(in: dir)
        let process = Process()
        process.executableURL = builtExecutable("kube-router")
        process.arguments = [
            "--kubeconfig", kubeconfig, "--state-dir", dir, "--run-service-proxy=false", "--run-router=false",
            "--run-firewall", "--log-format", "json", "--hostname-override", "node-j",
        ]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        var text = ""
        while !text.contains("kube-router: node node-j") || !text.hasSuffix("\n") {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let first = try #require(
            text.split(separator: "\n").map(String.init).first { $0.contains("kube-router: node") },
            "no log line: \(text)")
        let line = try JSONValue.parseJSON(Data(first.utf8))
        #expect(line["level"]?.stringValue == "info", "\(first)")
        #expect(line["msg"]?.stringValue?.hasPrefix("kube-router: node node-j") == true, "\(first)")
        #expect(
            line["ts"]?.stringValue?.hasSuffix("Z") == true && line["source"]?.stringValue == "kube-router", "\(first)")
    }
}

/// The stop path: SIGTERM stops the controllers and the informers and ends the agent with status 0,
/// whatever it is doing (here: waiting for an API server that is not there).
@Suite struct AgentStopTests {
    @Test(.enabled(if: geteuid() == 0)) func sigtermEndsTheAgentWithStatusZero() throws {
        let dir = try temporaryDirectory("stop")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let kubeconfig = try Fixtures.unreachableKubeconfig(in: dir)
        let process = Process()
        process.executableURL = builtExecutable("kube-router")
        process.arguments = [
            "--kubeconfig", kubeconfig, "--state-dir", dir, "--run-service-proxy=false",
            "--run-router=false", "--hostname-override", "node-s",
        ]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Once it says where it is going, it is past its start.
        var text = ""
        while !text.contains("kube-router: node node-s") {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let ended = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in ended.signal() }
        kill(process.processIdentifier, SIGTERM)
        let inTime = ended.wait(timeout: .now() + 10) == .success
        if !inTime { kill(process.processIdentifier, SIGKILL) }
        #expect(inTime, "the agent did not end within 10 s of SIGTERM")
        process.waitUntilExit()
        #expect(
            process.terminationReason == .exit && process.terminationStatus == 0,
            "\(process.terminationReason) \(process.terminationStatus)")
    }
}

/// A kube-router process whose stderr is read as it comes (for the failure messages of a test).
private final class RunningAgent: @unchecked Sendable {
    private let process = Process()
    private let text = Locked("")

    init(_ arguments: [String]) throws {
        process.executableURL = builtExecutable("kube-router")
        process.arguments = arguments
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let handle = err.fileHandleForReading
        Thread.detachNewThread { [text] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                text.mutate { $0 += String(decoding: chunk, as: UTF8.self) }
            }
        }
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var log: String { text.get() }

    /// Polls `condition` (a state of the agent, not its log) until it holds or `seconds` pass.
    func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if condition() { return true }
            if !process.isRunning { return false }
            usleep(50_000)
        }
        return condition()
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }
}
