import Foundation
import KubeModel

/// One route of the kernel's main table, as far as routing pods needs: a destination and its next
/// hops, and the protocol number that says who owns it.
public struct KernelRoute: Sendable, Hashable, CustomStringConvertible {
    public var destination: CIDR
    public var gateways: [IPAddress]
    public var proto: UInt8

    public init(destination: CIDR, gateways: [IPAddress], proto: UInt8) {
        self.destination = destination
        self.gateways = gateways.sorted()
        self.proto = proto
    }

    public var description: String {
        "\(destination) via \(gateways.map(\.description).joined(separator: ", ")) proto \(proto)"
    }
}
