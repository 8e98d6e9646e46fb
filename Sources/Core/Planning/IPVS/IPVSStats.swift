import Foundation
import KubeModel

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
