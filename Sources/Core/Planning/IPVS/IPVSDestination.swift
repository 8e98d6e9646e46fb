import Foundation
import KubeModel

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
