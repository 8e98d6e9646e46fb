import Foundation
import Kernel
import KubeModel
import Planning

#if canImport(Glibc)
import Glibc
#endif

/// The listening socket: accepts connections from configured peers (MD5 keys set per peer before
/// their SYN arrives) and hands them to their sessions.
final class BGPListener: @unchecked Sendable {
    let fd: Int32

    init(address: IPAddress?, port: UInt16) throws {
        let family = address?.family == .ipv4 ? AF_INET : AF_INET6
        fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw BGPTransport.Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if family == AF_INET6 {
            var zero: Int32 = 0  // dual stack: IPv4 peers arrive as IPv4-mapped addresses
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, socklen_t(MemoryLayout<Int32>.size))
        }
        let bindAddress = address ?? IPAddress(v6: 0, 0)
        var storage = BGPTransport.socketAddress(bindAddress, port: port)
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, BGPTransport.socklen(bindAddress)) }
        }
        guard rc == 0, listen(fd, 16) == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw BGPTransport.Failure(description: "cannot listen on port \(port): \(message)")
        }
    }

    deinit { Glibc.close(fd) }

    func setPassword(_ password: String, for peer: IPAddress) throws {
        // On a dual-stack socket an IPv4 peer's key is set for its IPv4-mapped address.
        let key = peer.family == .ipv4 ? IPAddress(v6: 0, 0xFFFF_0000_0000 | peer.low) : peer
        try BGPTransport.setMD5(fd, peer: key, password: password)
    }

    private typealias Accept4 =
        @convention(c) (
            Int32, UnsafeMutablePointer<sockaddr>?,
            UnsafeMutablePointer<socklen_t>?, Int32
        ) -> Int32
    /// glibc's accept4 (Glibc's module does not declare it): the descriptor is close-on-exec from the start.
    private static let accept4: Accept4? = dlsym(nil, "accept4").map { unsafeBitCast($0, to: Accept4.self) }

    /// The next connection (close-on-exec), or nil when the wait ends (`timeout`), the listener is shut
    /// down or the connection went before it was accepted. Throws when the process or the kernel is out of
    /// descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): the caller backs off rather than retrying
    /// at once, since the pending connection keeps the socket readable.
    func accept(timeout: Double) throws -> BGPTransport? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, Int32(timeout * 1000)) == 1 else { return nil }
        let client = Self.accept4.map { $0(fd, nil, nil, Int32(SOCK_CLOEXEC.rawValue)) } ?? Glibc.accept(fd, nil, nil)
        if client >= 0, Self.accept4 == nil { _ = fcntl(client, F_SETFD, FD_CLOEXEC) }
        guard client >= 0 else {
            let error = errno
            if [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error) {
                throw BGPTransport.Failure(description: "accept: \(String(cString: strerror(error)))")
            }
            return nil
        }
        return try? BGPTransport(fd: client)
    }
}
