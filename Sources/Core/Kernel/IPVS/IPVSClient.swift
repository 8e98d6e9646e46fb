import CNetlink
import Foundation
import KubeModel
import Planning

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
        guard rc == 0 else {
            nl_socket_free(s)
            throw Failure(description: "netlink: cannot connect: \(String(cString: nl_geterror(rc)))")
        }
        rc = genl_ctrl_resolve(s, IPVS_GENL_NAME)
        guard rc >= 0 else {
            nl_socket_free(s)
            throw Failure(
                description: rc == -NLE_OBJ_NOTFOUND
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
        let raw: [kr_ipvs_dest] = try dump(
            command: UInt8(IPVS_CMD_GET_DEST), prepare: { kr_ipvs_put_service($0, &key, 0) }
        ) { msg in
            var d = kr_ipvs_dest()
            return kr_ipvs_parse_dest(msg, &d) == 1 ? d : nil
        }
        return raw.compactMap { d in
            var copy = d
            let family: IPAddress.Family = d.af == UInt16(AF_INET6) ? .ipv6 : .ipv4
            guard
                let address = withUnsafeBytes(
                    of: &copy.addr, { IPAddress(bytes: Array($0.prefix(family == .ipv4 ? 4 : 16))[...]) })
            else { return nil }
            var dest = IPVSDestination(
                address: address, port: d.port, weight: d.weight,
                forwarding: IPVSDestination.Forwarding(rawValue: d.fwd & 0x7) ?? .masquerade)
            dest.activeConnections = d.active
            dest.inactiveConnections = d.inactive
            dest.stats = IPVSStats(
                connections: d.conns, packetsIn: d.inpkts, packetsOut: d.outpkts, bytesIn: d.inbytes,
                bytesOut: d.outbytes,
                connectionsPerSecond: d.cps, packetsInPerSecond: d.inpps, packetsOutPerSecond: d.outpps,
                bytesInPerSecond: d.inbps, bytesOutPerSecond: d.outbps)
            return dest
        }
    }

    /// The kernel's connection timeouts.
    public func timeouts() throws -> IPVSTimeouts {
        let replies: [kr_ipvs_timeouts] = try dump(command: UInt8(IPVS_CMD_GET_CONFIG), flags: 0, prepare: { _ in 0 }) {
            msg in
            var t = kr_ipvs_timeouts()
            return kr_ipvs_parse_timeouts(msg, &t) == 1 ? t : nil
        }
        guard let t = replies.first else { throw Failure(description: "netlink: the kernel sent no IPVS timeouts") }
        return IPVSTimeouts(tcp: t.tcp, tcpFin: t.tcp_fin, udp: t.udp)
    }

    /// Sets the connection timeouts; a 0 leaves that one as it is.
    public func setTimeouts(_ timeouts: IPVSTimeouts) throws {
        var raw = kr_ipvs_timeouts(tcp: timeouts.tcp, tcp_fin: timeouts.tcpFin, udp: timeouts.udp)
        try request(
            UInt8(IPVS_CMD_SET_CONFIG),
            what: "set IPVS timeouts tcp \(timeouts.tcp) tcpfin \(timeouts.tcpFin) udp \(timeouts.udp)"
        ) {
            kr_ipvs_put_timeouts($0, &raw)
        }
    }

    // MARK: Writing

    public func add(_ service: IPVSService) throws {
        try serviceCommand(IPVS_CMD_NEW_SERVICE, service, full: true, what: "add service \(service)")
    }
    public func update(_ service: IPVSService) throws {
        try serviceCommand(IPVS_CMD_SET_SERVICE, service, full: true, what: "update service \(service)")
    }
    public func delete(_ service: IPVSService) throws {
        try serviceCommand(IPVS_CMD_DEL_SERVICE, service, full: false, what: "delete service \(service.key)")
    }

    public func add(_ destination: IPVSDestination, to service: IPVSService) throws {
        try destinationCommand(
            IPVS_CMD_NEW_DEST, destination, service, full: true, what: "add \(destination) to \(service.key)")
    }

    public func update(_ destination: IPVSDestination, in service: IPVSService) throws {
        try destinationCommand(
            IPVS_CMD_SET_DEST, destination, service, full: true, what: "update \(destination) in \(service.key)")
    }

    public func delete(_ destination: IPVSDestination, from service: IPVSService) throws {
        try destinationCommand(
            IPVS_CMD_DEL_DEST, destination, service, full: false, what: "delete \(destination.key) from \(service.key)")
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
        withUnsafeMutableBytes(of: &s.sched) {
            $0.copyBytes(from: Array(service.scheduler.utf8.prefix($0.count - 1)) + [0])
        }
        s.flags = service.persistent ? UInt32(IP_VS_SVC_F_PERSISTENT) : 0
        s.timeout = service.timeout
        s.netmask = service.address.family == .ipv6 ? 128 : 0xFFFF_FFFF
        return s
    }

    static func service(_ s: kr_ipvs_service) -> IPVSService? {
        var copy = s
        let family: IPAddress.Family = s.af == UInt16(AF_INET6) ? .ipv6 : .ipv4
        guard
            let address = withUnsafeBytes(
                of: &copy.addr, { IPAddress(bytes: Array($0.prefix(family == .ipv4 ? 4 : 16))[...]) })
        else { return nil }
        let proto = PortProtocol.allCases.first { RuleCodec.protocolNumber($0) == s.protocol } ?? .tcp
        let scheduler = withUnsafeBytes(of: &copy.sched) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var service = IPVSService(
            address: address, proto: proto, port: s.port, fwmark: s.fwmark, scheduler: scheduler,
            persistent: s.flags & UInt32(IP_VS_SVC_F_PERSISTENT) != 0, timeout: s.timeout)
        service.stats = IPVSStats(
            connections: s.conns, packetsIn: s.inpkts, packetsOut: s.outpkts, bytesIn: s.inbytes,
            bytesOut: s.outbytes, connectionsPerSecond: s.cps, packetsInPerSecond: s.inpps,
            packetsOutPerSecond: s.outpps, bytesInPerSecond: s.inbps, bytesOutPerSecond: s.outbps)
        return service
    }

    private func serviceCommand(_ command: Int, _ service: IPVSService, full: Bool, what: String) throws {
        var raw = Self.raw(service)
        try request(UInt8(command), what: what) { kr_ipvs_put_service($0, &raw, full ? 1 : 0) }
    }

    private func destinationCommand(
        _ command: Int, _ destination: IPVSDestination, _ service: IPVSService, full: Bool, what: String
    ) throws {
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
    private func dump<T>(
        command: UInt8, flags: Int32 = NLM_F_DUMP, prepare: (OpaquePointer) -> Int32,
        parse: @escaping (OpaquePointer) -> T?
    ) throws -> [T] {
        try lock.withLock {
            guard let msg = nlmsg_alloc() else { throw Failure(description: "netlink: out of memory") }
            defer { nlmsg_free(msg) }
            guard kr_genlmsg_put(msg, family, flags, command) != nil, prepare(msg) == 0 else {
                throw Failure(description: "netlink: cannot build the IPVS dump request")
            }
            var items: [T] = []
            let sink = Sink { message in if let item = parse(message) { items.append(item) } }
            let context = Unmanaged.passUnretained(sink).toOpaque()
            nl_socket_modify_cb(
                socket, NL_CB_VALID, NL_CB_CUSTOM,
                { msg, arg in
                    if let msg, let arg { Unmanaged<Sink>.fromOpaque(arg).takeUnretainedValue().handle(msg) }
                    return Int32(NL_OK.rawValue)
                }, context)
            var rc = nl_send_auto(socket, msg)
            guard rc >= 0 else {
                throw Failure(description: "netlink: cannot send the IPVS dump: \(String(cString: nl_geterror(rc)))")
            }
            rc = nl_recvmsgs_default(socket)
            guard rc >= 0 else {
                throw Failure(description: "netlink: IPVS dump failed: \(String(cString: nl_geterror(rc)))")
            }
            if flags & NLM_F_DUMP == 0 {
                rc = nl_wait_for_ack(socket)
                guard rc >= 0 else {
                    throw Failure(description: "netlink: IPVS request failed: \(String(cString: nl_geterror(rc)))")
                }
            }
            return withExtendedLifetime(sink) { items }
        }
    }
}
