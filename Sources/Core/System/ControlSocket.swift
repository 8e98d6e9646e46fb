#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The agent's local control socket (`<state-dir>/kube-router.sock`, mode 0600: root only): one
/// command line in, one JSON document out. krctl asks the running agent for its BGP state here.
public enum ControlSocket {
    public static let fileName = "kube-router.sock"

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    static func address(_ path: String) throws -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw Failure(description: "socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes + [0]) }
        return address
    }

    /// Serves `handler` on `path` from a thread of its own, for the life of the process.
    public static func serve(path: String, handler: @escaping @Sendable (String) -> Data) throws {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = try address(path)
        let umaskBefore = umask(0o077)  // created 0600: only root may ask
        let rc = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        umask(umaskBefore)
        guard rc == 0, listen(fd, 8) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "cannot listen on \(path): \(message)")
        }
        let thread = Thread {
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { continue }
                var line: [UInt8] = []
                var byte: UInt8 = 0
                while line.count < 1024, read(client, &byte, 1) == 1, byte != 10 { line.append(byte) }
                let reply = handler(String(decoding: line, as: UTF8.self))
                reply.withUnsafeBytes { raw in
                    var sent = 0
                    while sent < raw.count {
                        let n = write(client, raw.baseAddress! + sent, raw.count - sent)
                        if n <= 0 { break }
                        sent += n
                    }
                }
                close(client)
            }
        }
        thread.name = "control socket"
        thread.start()
    }

    /// Sends one command to the agent and returns its reply.
    public static func ask(path: String, _ command: String) throws -> Data {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = try address(path)
        let rc = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard rc == 0 else {
            let reason = errno == ENOENT || errno == ECONNREFUSED ? "is the agent running with --run-router on this node?"
                : errno == EACCES ? "run krctl as root" : String(cString: strerror(errno))
            throw Failure(description: "cannot reach the agent at \(path): \(reason)")
        }
        let request = Array((command + "\n").utf8)
        _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var reply = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            reply.append(contentsOf: chunk[0..<n])
        }
        return reply
    }
}
