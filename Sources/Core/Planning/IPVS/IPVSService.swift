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
