#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A network prefix such as `10.0.0.0/8` or `fd00::/64`.
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    public let network: IPAddress
    public let prefixLength: Int

    public init(network: IPAddress, prefixLength: Int) {
        self.network = network.masked(to: prefixLength)
        self.prefixLength = prefixLength
    }

    /// Parses `ADDRESS/LENGTH`. Host bits are cleared, as Go's net.ParseCIDR (and so the API) does.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(parts[0]),
            let length = Int(parts[1]), String(length) == parts[1],
            length >= 0, length <= address.bitWidth
        else { return nil }
        self.init(network: address, prefixLength: length)
    }

    public var family: IPAddress.Family { network.family }

    public func contains(_ address: IPAddress) -> Bool {
        address.family == family && address.masked(to: prefixLength) == network
    }

    /// True when every address of `other` is in this prefix.
    public func contains(_ other: CIDR) -> Bool {
        other.prefixLength >= prefixLength && contains(other.network)
    }

    public var description: String { "\(network)/\(prefixLength)" }
}

extension CIDR {
    /// A total order without building strings (sorting 100,000 routes by `description` took most of a route
    /// sync): IPv4 before IPv6, then by network address, then the shorter prefix first.
    public static func precedes(_ a: CIDR, _ b: CIDR) -> Bool {
        if a.network != b.network { return a.network < b.network }
        return a.prefixLength < b.prefixLength
    }
}
