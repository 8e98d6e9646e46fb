import CNetlink
import Foundation

/// One IPVS virtual service: an address, protocol and port (or a firewall mark), its scheduler and
/// persistence, with the kernel's counters when read back.
public struct IPVSService: Sendable, Hashable, CustomStringConvertible {
    public var address: IPAddress
    public var proto: PortProtocol
    public var port: UInt16
    public var fwmark: UInt32
    public var scheduler: String
    /// Session persistence (`sessionAffinity: ClientIP`) for `timeout` seconds.
    public var persistent: Bool
    public var timeout: UInt32
    public var stats: IPVSStats

    public init(address: IPAddress, proto: PortProtocol, port: UInt16, fwmark: UInt32 = 0, scheduler: String = "rr",
                persistent: Bool = false, timeout: UInt32 = 0) {
        self.address = address; self.proto = proto; self.port = port; self.fwmark = fwmark; self.scheduler = scheduler
        self.persistent = persistent; self.timeout = timeout; stats = IPVSStats()
    }

    /// What identifies the service in the kernel, as a cheap value (sync diffs by it).
    public struct Identity: Hashable, Sendable {
        var address: IPAddress
        var proto: PortProtocol
        var port: UInt16
        var fwmark: UInt32
    }

    public var identity: Identity { Identity(address: address, proto: proto, port: port, fwmark: fwmark) }

    /// What identifies the service in the kernel, for people: `TCP 10.96.0.10:80`.
    public var key: String { fwmark != 0 ? "fwmark \(fwmark)" : "\(proto.rawValue) \(address.family == .ipv6 ? "[\(address)]" : "\(address)"):\(port)" }
    public var description: String { key + " " + scheduler + (persistent ? " persistent \(timeout)" : "") }

    /// Equal as configuration (counters aside).
    public func sameSettings(_ other: IPVSService) -> Bool {
        identity == other.identity && scheduler == other.scheduler && persistent == other.persistent && (!persistent || timeout == other.timeout)
    }

    public static func == (a: Self, b: Self) -> Bool { a.sameSettings(b) }
    public func hash(into h: inout Hasher) { h.combine(identity) }
}

/// One real server of a service.
public struct IPVSDestination: Sendable, Hashable, CustomStringConvertible {
    public enum Forwarding: UInt32, Sendable { case masquerade = 0, local = 1, tunnel = 2, route = 3 }
    public var address: IPAddress
    public var port: UInt16
    public var weight: Int32
    public var forwarding: Forwarding
    public var activeConnections: UInt32 = 0
    public var inactiveConnections: UInt32 = 0
    public var stats = IPVSStats()

    public init(address: IPAddress, port: UInt16, weight: Int32 = 1, forwarding: Forwarding = .masquerade) {
        self.address = address; self.port = port; self.weight = weight; self.forwarding = forwarding
    }

    public var key: String { address.family == .ipv6 ? "[\(address)]:\(port)" : "\(address):\(port)" }
    public var description: String { "\(key) weight \(weight) \(forwarding)" }
    /// The real server's address and port, whatever its weight: what a sync diffs by.
    public struct Server: Hashable, Sendable {
        var address: IPAddress
        var port: UInt16
    }

    public var server: Server { Server(address: address, port: port) }
    public func sameServer(_ other: IPVSDestination) -> Bool { address == other.address && port == other.port }
    public static func == (a: Self, b: Self) -> Bool { a.sameServer(b) && a.weight == b.weight && a.forwarding == b.forwarding }
    public func hash(into h: inout Hasher) { h.combine(address); h.combine(port) }
}

public struct IPVSStats: Sendable, Hashable, Codable {
    public var connections: UInt64 = 0
    public var packetsIn: UInt64 = 0
    public var packetsOut: UInt64 = 0
    public var bytesIn: UInt64 = 0
    public var bytesOut: UInt64 = 0
    /// Rates, as the kernel estimates them (per second, over its 2-second estimator).
    public var connectionsPerSecond: UInt64 = 0
    public var packetsInPerSecond: UInt64 = 0
    public var packetsOutPerSecond: UInt64 = 0
    public var bytesInPerSecond: UInt64 = 0
    public var bytesOutPerSecond: UInt64 = 0
}

/// The kernel's IPVS connection timeouts, in seconds (`ipvsadm --set tcp tcpfin udp`).
public struct IPVSTimeouts: Sendable, Equatable, Codable {
    public var tcp: UInt32
    public var tcpFin: UInt32
    public var udp: UInt32
    public init(tcp: UInt32, tcpFin: UInt32, udp: UInt32) { self.tcp = tcp; self.tcpFin = tcpFin; self.udp = udp }
}

/// The kernel's IPVS table over generic netlink (libnl-genl): read, add, change and delete services and
/// their real servers. One netlink socket; calls are serialised.
public final class IPVSClient: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private let socket: OpaquePointer
    private let family: Int32
    private let lock = NSLock()

    public init() throws {
        guard let s = nl_socket_alloc() else { throw Failure(description: "netlink: out of memory") }
        var rc = genl_connect(s)
        guard rc == 0 else { nl_socket_free(s); throw Failure(description: "netlink: cannot connect: \(String(cString: nl_geterror(rc)))") }
        rc = genl_ctrl_resolve(s, IPVS_GENL_NAME)
        guard rc >= 0 else {
            nl_socket_free(s)
            throw Failure(description: rc == -NLE_OBJ_NOTFOUND
                ? "IPVS is not available on this kernel (no generic netlink family \"IPVS\": load the ip_vs module)"
                : "netlink: cannot resolve IPVS: \(String(cString: nl_geterror(rc)))")
        }
        family = rc
        socket = s
    }

    deinit { nl_socket_free(socket) }

    /// True when this kernel (network namespace) has IPVS.
    public static var isAvailable: Bool { (try? IPVSClient()) != nil }

    // MARK: Reading

    public func services() throws -> [IPVSService] {
        let raw: [kr_ipvs_service] = try dump(command: UInt8(IPVS_CMD_GET_SERVICE), prepare: { _ in 0 }) { msg in
            var s = kr_ipvs_service()
            return kr_ipvs_parse_service(msg, &s) == 1 ? s : nil
        }
        return raw.compactMap(Self.service)
    }

    public func destinations(of service: IPVSService) throws -> [IPVSDestination] {
        var key = Self.raw(service)
        let raw: [kr_ipvs_dest] = try dump(command: UInt8(IPVS_CMD_GET_DEST), prepare: { kr_ipvs_put_service($0, &key, 0) }) { msg in
            var d = kr_ipvs_dest()
            return kr_ipvs_parse_dest(msg, &d) == 1 ? d : nil
        }
        return raw.compactMap { d in
            var copy = d
            let family: IPAddress.Family = d.af == UInt16(AF_INET6) ? .ipv6 : .ipv4
            guard let address = withUnsafeBytes(of: &copy.addr, { IPAddress(bytes: Array($0.prefix(family == .ipv4 ? 4 : 16))[...]) }) else { return nil }
            var dest = IPVSDestination(address: address, port: d.port, weight: d.weight,
                                       forwarding: IPVSDestination.Forwarding(rawValue: d.fwd & 0x7) ?? .masquerade)
            dest.activeConnections = d.active
            dest.inactiveConnections = d.inactive
            dest.stats = IPVSStats(connections: d.conns, packetsIn: d.inpkts, packetsOut: d.outpkts, bytesIn: d.inbytes, bytesOut: d.outbytes,
                                   connectionsPerSecond: d.cps, packetsInPerSecond: d.inpps, packetsOutPerSecond: d.outpps,
                                   bytesInPerSecond: d.inbps, bytesOutPerSecond: d.outbps)
            return dest
        }
    }

    /// The kernel's connection timeouts.
    public func timeouts() throws -> IPVSTimeouts {
        let replies: [kr_ipvs_timeouts] = try dump(command: UInt8(IPVS_CMD_GET_CONFIG), flags: 0, prepare: { _ in 0 }) { msg in
            var t = kr_ipvs_timeouts()
            return kr_ipvs_parse_timeouts(msg, &t) == 1 ? t : nil
        }
        guard let t = replies.first else { throw Failure(description: "netlink: the kernel sent no IPVS timeouts") }
        return IPVSTimeouts(tcp: t.tcp, tcpFin: t.tcp_fin, udp: t.udp)
    }

    /// Sets the connection timeouts; a 0 leaves that one as it is.
    public func setTimeouts(_ timeouts: IPVSTimeouts) throws {
        var raw = kr_ipvs_timeouts(tcp: timeouts.tcp, tcp_fin: timeouts.tcpFin, udp: timeouts.udp)
        try request(UInt8(IPVS_CMD_SET_CONFIG), what: "set IPVS timeouts tcp \(timeouts.tcp) tcpfin \(timeouts.tcpFin) udp \(timeouts.udp)") {
            kr_ipvs_put_timeouts($0, &raw)
        }
    }

    // MARK: Writing

    public func add(_ service: IPVSService) throws { try serviceCommand(IPVS_CMD_NEW_SERVICE, service, full: true, what: "add service \(service)") }
    public func update(_ service: IPVSService) throws { try serviceCommand(IPVS_CMD_SET_SERVICE, service, full: true, what: "update service \(service)") }
    public func delete(_ service: IPVSService) throws { try serviceCommand(IPVS_CMD_DEL_SERVICE, service, full: false, what: "delete service \(service.key)") }

    public func add(_ destination: IPVSDestination, to service: IPVSService) throws {
        try destinationCommand(IPVS_CMD_NEW_DEST, destination, service, full: true, what: "add \(destination) to \(service.key)")
    }

    public func update(_ destination: IPVSDestination, in service: IPVSService) throws {
        try destinationCommand(IPVS_CMD_SET_DEST, destination, service, full: true, what: "update \(destination) in \(service.key)")
    }

    public func delete(_ destination: IPVSDestination, from service: IPVSService) throws {
        try destinationCommand(IPVS_CMD_DEL_DEST, destination, service, full: false, what: "delete \(destination.key) from \(service.key)")
    }

    // MARK: Plumbing

    static func raw(_ service: IPVSService) -> kr_ipvs_service {
        var s = kr_ipvs_service()
        s.af = UInt16(service.address.family == .ipv6 ? AF_INET6 : AF_INET)
        s.protocol = UInt16(RuleCodec.protocolNumber(service.proto))
        let bytes = service.address.bytes
        withUnsafeMutableBytes(of: &s.addr) { $0.copyBytes(from: bytes) }
        s.port = service.port
        s.fwmark = service.fwmark
        withUnsafeMutableBytes(of: &s.sched) { $0.copyBytes(from: Array(service.scheduler.utf8.prefix($0.count - 1)) + [0]) }
        s.flags = service.persistent ? UInt32(IP_VS_SVC_F_PERSISTENT) : 0
        s.timeout = service.timeout
        s.netmask = service.address.family == .ipv6 ? 128 : 0xFFFF_FFFF
        return s
    }

    static func service(_ s: kr_ipvs_service) -> IPVSService? {
        var copy = s
        let family: IPAddress.Family = s.af == UInt16(AF_INET6) ? .ipv6 : .ipv4
        guard let address = withUnsafeBytes(of: &copy.addr, { IPAddress(bytes: Array($0.prefix(family == .ipv4 ? 4 : 16))[...]) }) else { return nil }
        let proto = PortProtocol.allCases.first { RuleCodec.protocolNumber($0) == s.protocol } ?? .tcp
        let scheduler = withUnsafeBytes(of: &copy.sched) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var service = IPVSService(address: address, proto: proto, port: s.port, fwmark: s.fwmark, scheduler: scheduler,
                                  persistent: s.flags & UInt32(IP_VS_SVC_F_PERSISTENT) != 0, timeout: s.timeout)
        service.stats = IPVSStats(connections: s.conns, packetsIn: s.inpkts, packetsOut: s.outpkts, bytesIn: s.inbytes,
                                  bytesOut: s.outbytes, connectionsPerSecond: s.cps, packetsInPerSecond: s.inpps,
                                  packetsOutPerSecond: s.outpps, bytesInPerSecond: s.inbps, bytesOutPerSecond: s.outbps)
        return service
    }

    private func serviceCommand(_ command: Int, _ service: IPVSService, full: Bool, what: String) throws {
        var raw = Self.raw(service)
        try request(UInt8(command), what: what) { kr_ipvs_put_service($0, &raw, full ? 1 : 0) }
    }

    private func destinationCommand(_ command: Int, _ destination: IPVSDestination, _ service: IPVSService, full: Bool, what: String) throws {
        var svc = Self.raw(service)
        var dest = kr_ipvs_dest()
        dest.af = UInt16(destination.address.family == .ipv6 ? AF_INET6 : AF_INET)
        let bytes = destination.address.bytes
        withUnsafeMutableBytes(of: &dest.addr) { $0.copyBytes(from: bytes) }
        dest.port = destination.port
        dest.fwd = destination.forwarding.rawValue
        dest.weight = destination.weight
        try request(UInt8(command), what: what) { msg in
            kr_ipvs_put_service(msg, &svc, 0) == 0 && kr_ipvs_put_dest(msg, &dest, full ? 1 : 0) == 0 ? 0 : -1
        }
    }

    /// A change, acknowledged by the kernel (nl_send_sync waits for the ACK, so no stale one is left).
    private func request(_ command: UInt8, what: String, _ fill: (OpaquePointer) -> Int32) throws {
        try lock.withLock {
            guard let msg = nlmsg_alloc() else { throw Failure(description: "netlink: out of memory") }
            guard kr_genlmsg_put(msg, family, 0, command) != nil, fill(msg) == 0 else {
                nlmsg_free(msg)
                throw Failure(description: "\(what): cannot build the message")
            }
            let rc = nl_send_sync(socket, msg)  // frees msg
            guard rc == 0 else { throw Failure(description: "\(what): \(String(cString: nl_geterror(rc)))") }
        }
    }

    /// Receives each reply message of a dump (non-generic: a C callback cannot capture generics).
    private final class Sink {
        let handle: (OpaquePointer) -> Void
        init(_ handle: @escaping (OpaquePointer) -> Void) { self.handle = handle }
    }

    /// A dump request; every reply message is parsed by `parse`.
    /// `flags` 0: a plain request answered by one message (and the ACK, which is waited for).
    private func dump<T>(command: UInt8, flags: Int32 = NLM_F_DUMP, prepare: (OpaquePointer) -> Int32, parse: @escaping (OpaquePointer) -> T?) throws -> [T] {
        try lock.withLock {
            guard let msg = nlmsg_alloc() else { throw Failure(description: "netlink: out of memory") }
            defer { nlmsg_free(msg) }
            guard kr_genlmsg_put(msg, family, flags, command) != nil, prepare(msg) == 0 else {
                throw Failure(description: "netlink: cannot build the IPVS dump request")
            }
            var items: [T] = []
            let sink = Sink { message in if let item = parse(message) { items.append(item) } }
            let context = Unmanaged.passUnretained(sink).toOpaque()
            nl_socket_modify_cb(socket, NL_CB_VALID, NL_CB_CUSTOM, { msg, arg in
                if let msg, let arg { Unmanaged<Sink>.fromOpaque(arg).takeUnretainedValue().handle(msg) }
                return Int32(NL_OK.rawValue)
            }, context)
            var rc = nl_send_auto(socket, msg)
            guard rc >= 0 else { throw Failure(description: "netlink: cannot send the IPVS dump: \(String(cString: nl_geterror(rc)))") }
            rc = nl_recvmsgs_default(socket)
            guard rc >= 0 else { throw Failure(description: "netlink: IPVS dump failed: \(String(cString: nl_geterror(rc)))") }
            if flags & NLM_F_DUMP == 0 {
                rc = nl_wait_for_ack(socket)
                guard rc >= 0 else { throw Failure(description: "netlink: IPVS request failed: \(String(cString: nl_geterror(rc)))") }
            }
            return withExtendedLifetime(sink) { items }
        }
    }
}
