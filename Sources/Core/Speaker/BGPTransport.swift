import Foundation
import Kernel
import KubeModel
import Planning

#if canImport(Glibc)
import Glibc
#endif

/// One TCP connection of a BGP session, with blocking reads bounded by a timeout (poll), TCP MD5
/// signatures (RFC 2385) and message framing.
public final class BGPTransport: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible { var description: String }

    let fd: Int32
    let remote: IPAddress
    let local: IPAddress
    private var buffer: [UInt8] = []
    /// One read's worth, reused: a full table arrives as thousands of reads. Allocated at the first read,
    /// so a connection that never sends anything costs no more than its descriptor.
    private var chunk: [UInt8] = []
    private let writeLock = NSLock()

    init(fd: Int32) throws {
        self.fd = fd
        guard let r = Self.address(fd, peer: true), let l = Self.address(fd, peer: false) else {
            Glibc.close(fd)
            throw Failure(description: "cannot read the connection's addresses")
        }
        remote = r
        local = l
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { Glibc.close(fd) }

    /// Connects within `timeout` seconds, with the peer's MD5 key and the IP TTL (`ttl`, else the kernel's
    /// default) set before the SYN.
    public static func connect(
        to address: IPAddress, port: UInt16, from localAddress: IPAddress?, password: String?,
        timeout: Double, ttl: UInt8? = nil
    ) throws -> BGPTransport {
        let family = address.family == .ipv4 ? AF_INET : AF_INET6
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var ok = false
        defer { if !ok { Glibc.close(fd) } }
        if let password { try setMD5(fd, peer: address, password: password) }
        if let ttl { try setTTL(fd, family: address.family, ttl) }
        if let localAddress {
            var storage = socketAddress(localAddress, port: 0)
            guard
                withUnsafePointer(
                    to: &storage,
                    { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen(address)) } }) == 0
            else {
                throw Failure(description: "bind \(localAddress): \(String(cString: strerror(errno)))")
            }
        }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        var storage = socketAddress(address, port: port)
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen(address)) }
        }
        if rc != 0 && errno != EINPROGRESS {
            throw Failure(description: "connect \(address): \(String(cString: strerror(errno)))")
        }
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&pfd, 1, Int32(timeout * 1000)) == 1 else {
            throw Failure(description: "connect \(address): timed out")
        }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        guard error == 0 else { throw Failure(description: "connect \(address): \(String(cString: strerror(error)))") }
        _ = fcntl(fd, F_SETFL, flags)
        ok = true
        return try BGPTransport(fd: fd)
    }

    /// The IP TTL (IPv6: unicast hop limit) of what this connection sends from now on.
    func setTTL(_ ttl: UInt8) throws { try Self.setTTL(fd, family: remote.family, ttl) }

    static func setTTL(_ fd: Int32, family: IPAddress.Family, _ ttl: UInt8) throws {
        var value = Int32(ttl)
        let (level, option) =
            family == .ipv4 ? (Int32(IPPROTO_IP), IP_TTL) : (Int32(IPPROTO_IPV6), IPV6_UNICAST_HOPS)
        guard setsockopt(fd, level, option, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw Failure(description: "TTL \(ttl): \(String(cString: strerror(errno)))")
        }
    }

    /// Sets (or with an empty password clears) the MD5 key for a peer on a socket.
    static func setMD5(_ fd: Int32, peer: IPAddress, password: String) throws {
        var sig = tcp_md5sig()
        var storage = socketAddress(peer, port: 0)
        withUnsafeBytes(of: &storage) { src in
            withUnsafeMutableBytes(of: &sig.tcpm_addr) {
                $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: src.prefix($0.count)))
            }
        }
        let key = Array(password.utf8.prefix(80))
        sig.tcpm_keylen = UInt16(key.count)
        withUnsafeMutableBytes(of: &sig.tcpm_key) { $0.copyBytes(from: key) }
        guard setsockopt(fd, Int32(IPPROTO_TCP), TCP_MD5SIG, &sig, socklen_t(MemoryLayout<tcp_md5sig>.size)) == 0 else {
            throw Failure(description: "TCP MD5 for \(peer): \(String(cString: strerror(errno)))")
        }
    }

    public func send(_ message: BGPMessage, options: BGPMessage.Options) throws {
        let bytes = message.encode(options: options)
        try writeLock.withLock {
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
                sent += n
            }
        }
    }

    /// The next whole message, waiting at most `timeout` seconds (nil when none came; with 0, what the
    /// socket already holds is still read). Throws a `BGPError` for a malformed message, `Failure` when the
    /// connection ends.
    public func receive(timeout: Double, options: BGPMessage.Options) throws -> BGPMessage? {
        let deadline = Date(timeIntervalSinceNow: max(0, timeout))
        var polled = false
        while true {
            if let length = try BGPMessage.frameLength(buffer[...]), buffer.count >= length {
                let bytes = Array(buffer[0..<length])
                buffer.removeFirst(length)
                return try BGPMessage.decode(bytes, options: options)
            }
            let wait = deadline.timeIntervalSinceNow
            guard wait > 0 || !polled else { return nil }
            polled = true
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, wait > 0 ? Int32(min(wait, 1) * 1000) + 1 : 0)
            if ready == 0 { continue }
            guard ready > 0 else {
                if errno == EINTR { continue }
                throw Failure(description: "poll: \(String(cString: strerror(errno)))")
            }
            if chunk.isEmpty { chunk = [UInt8](repeating: 0, count: 65536) }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { throw Failure(description: "the peer closed the connection") }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw Failure(description: "receive: \(String(cString: strerror(errno)))")
            }
            buffer += chunk[0..<n]
        }
    }

    func shutdown() { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

    /// Whether the peer has sent something not yet read (its OPEN, on a connection waiting to be taken).
    var hasUnreadData: Bool {
        var pending: Int32 = 0
        return ioctl(fd, UInt(FIONREAD), &pending) == 0 && pending > 0
    }

    // MARK: Addresses

    static func socketAddress(_ address: IPAddress, port: UInt16) -> sockaddr_storage {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            if address.family == .ipv4 {
                var sin = sockaddr_in()
                sin.sin_family = sa_family_t(AF_INET)
                sin.sin_port = port.bigEndian
                sin.sin_addr.s_addr = UInt32(truncatingIfNeeded: address.low).bigEndian
                withUnsafeBytes(of: &sin) { raw.copyMemory(from: $0) }
            } else {
                var sin6 = sockaddr_in6()
                sin6.sin6_family = sa_family_t(AF_INET6)
                sin6.sin6_port = port.bigEndian
                let bytes = address.bytes
                withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: bytes) }
                withUnsafeBytes(of: &sin6) { raw.copyMemory(from: $0) }
            }
        }
        return storage
    }

    static func socklen(_ address: IPAddress) -> socklen_t {
        socklen_t(address.family == .ipv4 ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
    }

    static func address(_ fd: Int32, peer: Bool) -> IPAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                peer ? getpeername(fd, $0, &length) : getsockname(fd, $0, &length)
            }
        }
        guard rc == 0 else { return nil }
        return address(storage)
    }

    static func address(_ storage: sockaddr_storage) -> IPAddress? {
        var s = storage
        return withUnsafeBytes(of: &s) { raw -> IPAddress? in
            switch Int32(storage.ss_family) {
            case AF_INET:
                let sin = raw.load(as: sockaddr_in.self)
                return IPAddress(v4: UInt32(bigEndian: sin.sin_addr.s_addr))
            case AF_INET6:
                let sin6 = raw.load(as: sockaddr_in6.self)
                let bytes = withUnsafeBytes(of: sin6.sin6_addr) { Array($0) }
                let address = IPAddress(bytes: bytes[...])
                // An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 peer itself.
                if let address, address.high == 0, address.low >> 32 == 0xFFFF {
                    return IPAddress(v4: UInt32(truncatingIfNeeded: address.low))
                }
                return address
            default:
                return nil
            }
        }
    }
}
