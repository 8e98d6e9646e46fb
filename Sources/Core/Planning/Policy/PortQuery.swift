import KubeModel

/// The destination port of a query: a number, or a container-port name resolved on the destination pod.
public struct PortQuery: Sendable, Hashable, CustomStringConvertible {
    public enum Value: Sendable, Hashable { case number(Int), named(String) }
    public var value: Value
    public var proto: PortProtocol

    /// `80`, `80/TCP`, `53/udp`, `http`, `metrics/TCP`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let first = parts.first, !first.isEmpty else { return nil }
        if parts.count == 2 {
            guard let p = PortProtocol(caseInsensitive: parts[1]) else { return nil }
            proto = p
        } else {
            proto = .tcp
        }
        if let n = Int(first) {
            guard (1...65535).contains(n) else { return nil }
            value = .number(n)
        } else {
            value = .named(String(first))
        }
    }

    public var description: String {
        switch value {
        case .number(let n): "\(n)/\(proto.rawValue)"
        case .named(let s): "\(s)/\(proto.rawValue)"
        }
    }
}
