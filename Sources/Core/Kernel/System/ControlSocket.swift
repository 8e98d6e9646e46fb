import Foundation
import KubeModel
import Planning

#if canImport(Glibc)
import Glibc
#endif

/// The agent's local control socket (`<state-dir>/kube-router.sock`, mode 0600: root only): one
/// command line in, one JSON document out. krctl asks the running agent for its BGP state here.
///
/// A client can never harm the agent: replies are sent with `MSG_NOSIGNAL` (a client that leaves early
/// costs a failed write, not a SIGPIPE), each client is served on a thread of its own with a deadline
/// for its request and for the reply, requests are at most `maxRequest` bytes, at most
/// `maxClients` are served at once, and failing `accept()` calls (out of descriptors) back off.
public enum ControlSocket {
    public static let fileName = "kube-router.sock"
    /// Longest command line read.
    public static let maxRequest = 1024
    /// Clients served at once; more are closed at once.
    public static let maxClients = 16
    /// How long a client may take to send its command, and to take the reply.
    public static let clientDeadline = 10.0

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    static func address(_ path: String) throws -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw Failure(description: "socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes + [0]) }
        return address
    }

    private static func connect(_ fd: Int32, _ path: String) throws -> Int32 {
        var address = try address(path)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }

    /// Whether something answers on `path` (another agent): its socket must not be taken over.
    public static func isServed(path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return (try? connect(fd, path)) == 0
    }

    /// Serves `handler` on `path` from a thread of its own, for the life of the process. Refuses to take
    /// over a socket another process still answers on.
    public static func serve(path: String, handler: @escaping @Sendable (String) -> Data) throws {
        // A client that goes away mid-reply must never end the process.
        signal(SIGPIPE, SIG_IGN)
        if isServed(path: path) {
            throw Failure(
                description: "another process answers on \(path): is another kube-router running with this --state-dir?"
            )
        }
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = try address(path)
        let umaskBefore = umask(0o077)  // created 0600: only root may ask
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        umask(umaskBefore)
        guard rc == 0, listen(fd, 16) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "cannot listen on \(path): \(message)")
        }
        let active = ActiveClients()
        let thread = Thread {
            var backoff = 0.05
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else {
                    // EMFILE, ENFILE, ENOBUFS, ENOMEM: the pending client stays queued; retrying at once spins.
                    if errno != EINTR && errno != ECONNABORTED {
                        Thread.sleep(forTimeInterval: backoff)
                        backoff = min(backoff * 2, 1)
                    }
                    continue
                }
                backoff = 0.05
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                guard active.enter() else {
                    send(
                        client, Data("{\"error\": \"busy: too many clients\"}\n".utf8),
                        deadline: Date(timeIntervalSinceNow: 1))
                    close(client)
                    continue
                }
                let worker = Thread {
                    defer {
                        close(client)
                        active.leave()
                    }
                    serveClient(client, handler: handler)
                }
                worker.name = "control client"
                worker.start()
            }
        }
        thread.name = "control socket"
        thread.start()
    }

    private static func serveClient(_ client: Int32, handler: @Sendable (String) -> Data) {
        let deadline = Date(timeIntervalSinceNow: clientDeadline)
        var line: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        reading: while true {
            guard wait(client, for: Int16(POLLIN), until: deadline) else { return }  // never wrote: dropped
            let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            guard n > 0 else { break }
            for byte in buffer[0..<n] {
                if byte == 10 { break reading }
                line.append(byte)
            }
            guard line.count <= maxRequest else {
                send(
                    client, Data("{\"error\": \"request longer than \(maxRequest) bytes\"}\n".utf8), deadline: deadline)
                return
            }
        }
        var reply = handler(String(decoding: line, as: UTF8.self))
        send(client, reply, deadline: Date(timeIntervalSinceNow: clientDeadline))
        // A large reply (a full table's `bgp routes`) is released here: its memory goes back to the system.
        let large = reply.count > 1 << 20
        reply = Data()
        if large { Memory.trim() }
    }

    private static func wait(_ fd: Int32, for events: Int16, until deadline: Date) -> Bool {
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return false }
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&pfd, 1, Int32(min(left, 1) * 1000) + 1)
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return false }
        }
    }

    /// Writes all of `data`, without SIGPIPE, until `deadline`; a client that leaves or stalls is given up.
    private static func send(_ fd: Int32, _ data: Data, deadline: Date) {
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var sent = 0
            while sent < raw.count {
                guard wait(fd, for: Int16(POLLOUT), until: deadline) else { return }
                let n = Glibc.send(fd, base + sent, raw.count - sent, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                guard n > 0 else { return }
                sent += n
            }
        }
    }

    /// Counts the clients being served.
    private final class ActiveClients: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func enter() -> Bool {
            lock.withLock {
                guard count < ControlSocket.maxClients else { return false }
                count += 1
                return true
            }
        }
        func leave() { lock.withLock { count -= 1 } }
    }

    /// Sends one command to the agent and returns its reply, waiting at most `timeout` seconds.
    public static func ask(path: String, _ command: String, timeout: Double = 30) throws -> Data {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard try connect(fd, path) == 0 else {
            let reason =
                errno == ENOENT || errno == ECONNREFUSED
                ? "is the agent running with --run-router on this node?"
                : errno == EACCES ? "run krctl as root" : String(cString: strerror(errno))
            throw Failure(description: "cannot reach the agent at \(path): \(reason)")
        }
        let deadline = Date(timeIntervalSinceNow: timeout)
        let timedOut = Failure(
            description: """
                the agent at \(path) did not answer within \(Int(timeout)) s (is it overloaded or stuck? \
                its log may say; --request-timeout waits longer)
                """)
        send(fd, Data((command + "\n").utf8), deadline: deadline)
        var reply = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            guard wait(fd, for: Int16(POLLIN), until: deadline) else { throw timedOut }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            if n <= 0 { break }
            reply.append(contentsOf: chunk[0..<n])
        }
        return reply
    }
}
