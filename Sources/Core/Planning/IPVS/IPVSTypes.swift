import Foundation
import KubeModel

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

    public init(
        address: IPAddress, proto: PortProtocol, port: UInt16, fwmark: UInt32 = 0, scheduler: String = "rr",
        persistent: Bool = false, timeout: UInt32 = 0
    ) {
        self.address = address
        self.proto = proto
        self.port = port
        self.fwmark = fwmark
        self.scheduler = scheduler
        self.persistent = persistent
        self.timeout = timeout
        stats = IPVSStats()
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
    public var key: String {
        fwmark != 0
            ? "fwmark \(fwmark)"
            : "\(proto.rawValue) \(address.family == .ipv6 ? "[\(address)]" : "\(address)"):\(port)"
    }
    public var description: String { key + " " + scheduler + (persistent ? " persistent \(timeout)" : "") }

    /// Equal as configuration (counters aside).
    public func sameSettings(_ other: IPVSService) -> Bool {
        identity == other.identity && scheduler == other.scheduler && persistent == other.persistent
            && (!persistent || timeout == other.timeout)
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
        self.address = address
        self.port = port
        self.weight = weight
        self.forwarding = forwarding
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
    public static func == (a: Self, b: Self) -> Bool {
        a.sameServer(b) && a.weight == b.weight && a.forwarding == b.forwarding
    }
    public func hash(into h: inout Hasher) {
        h.combine(address)
        h.combine(port)
    }
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

    public init(
        connections: UInt64 = 0, packetsIn: UInt64 = 0, packetsOut: UInt64 = 0, bytesIn: UInt64 = 0,
        bytesOut: UInt64 = 0,
        connectionsPerSecond: UInt64 = 0, packetsInPerSecond: UInt64 = 0, packetsOutPerSecond: UInt64 = 0,
        bytesInPerSecond: UInt64 = 0, bytesOutPerSecond: UInt64 = 0
    ) {
        self.connections = connections
        self.packetsIn = packetsIn
        self.packetsOut = packetsOut
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.connectionsPerSecond = connectionsPerSecond
        self.packetsInPerSecond = packetsInPerSecond
        self.packetsOutPerSecond = packetsOutPerSecond
        self.bytesInPerSecond = bytesInPerSecond
        self.bytesOutPerSecond = bytesOutPerSecond
    }
}

/// The kernel's IPVS connection timeouts, in seconds (`ipvsadm --set tcp tcpfin udp`).
public struct IPVSTimeouts: Sendable, Equatable, Codable {
    public var tcp: UInt32
    public var tcpFin: UInt32
    public var udp: UInt32
    public init(tcp: UInt32, tcpFin: UInt32, udp: UInt32) {
        self.tcp = tcp
        self.tcpFin = tcpFin
        self.udp = udp
    }
}
