import Foundation
import KubeModel

/// What the kernel answers to `ip route get ADDRESS`.
public struct RouteLookup: Sendable, Equatable, CustomStringConvertible {
    public var destination: IPAddress
    /// The output interface; nil for local, unreachable and prohibited addresses.
    public var interface: String?
    public var gateway: IPAddress?
    public var source: IPAddress?
    /// `unicast`, `local`, `unreachable`, `blackhole`, `prohibit`, ...
    public var type: String
    public var proto: UInt8
    /// The kernel's error, when it has no route at all (`Network is unreachable`).
    public var error: String?

    public var description: String {
        if let error { return "\(destination): \(error)" }
        var text = type == "unicast" ? "\(destination)" : "\(type) \(destination)"
        if let gateway { text += " via \(gateway)" }
        if let interface { text += " dev \(interface)" }
        if let source { text += " src \(source)" }
        if proto == NodeNetwork.kubeRouterProtocol { text += " proto kube-router" }
        return text
    }

    package init(
        destination: IPAddress, interface: String? = nil, gateway: IPAddress? = nil, source: IPAddress? = nil,
        type: String, proto: UInt8, error: String? = nil
    ) {
        self.destination = destination
        self.interface = interface
        self.gateway = gateway
        self.source = source
        self.type = type
        self.proto = proto
        self.error = error
    }

    package static let typeNames: [UInt8: String] = [
        1: "unicast", 2: "local", 3: "broadcast", 4: "anycast", 5: "multicast",
        6: "blackhole", 7: "unreachable", 8: "prohibit", 9: "throw", 10: "nat",
    ]
}
