#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address held as a 128-bit value (IPv4 in the low 32 bits), so that prefix
/// arithmetic is the same code for both families.
public struct IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public enum Family: String, Sendable, Codable { case ipv4 = "IPv4", ipv6 = "IPv6" }

    public let family: Family
    public let high: UInt64
    public let low: UInt64

    public init(v4 value: UInt32) {
        family = .ipv4
        high = 0
        low = UInt64(value)
    }

    public init(v6 high: UInt64, _ low: UInt64) {
        family = .ipv6
        self.high = high
        self.low = low
    }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (no zone, no brackets).
    public init?(_ text: some StringProtocol) {
        let s = String(text)
        guard !s.isEmpty, s.utf8.count < 64 else { return nil }
        if s.contains(":") {
            var raw = in6_addr()
            guard inet_pton(AF_INET6, s, &raw) == 1 else { return nil }
            let bytes = withUnsafeBytes(of: &raw) { Array($0) }
            var h: UInt64 = 0
            var l: UInt64 = 0
            for i in 0..<8 { h = h << 8 | UInt64(bytes[i]) }
            for i in 8..<16 { l = l << 8 | UInt64(bytes[i]) }
            self.init(v6: h, l)
        } else {
            // inet_pton accepts only the strict dotted-quad form, as Go's net.ParseIP does.
            var raw = in_addr()
            guard inet_pton(AF_INET, s, &raw) == 1 else { return nil }
            self.init(v4: UInt32(bigEndian: raw.s_addr))
        }
    }

    public var bitWidth: Int { family == .ipv4 ? 32 : 128 }

    public var description: String {
        switch family {
        case .ipv4:
            let v = UInt32(truncatingIfNeeded: low)
            return "\(v >> 24).\(v >> 16 & 0xff).\(v >> 8 & 0xff).\(v & 0xff)"
        case .ipv6:
            var raw = in6_addr()
            withUnsafeMutableBytes(of: &raw) { buf in
                for i in 0..<8 { buf[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i))) }
                for i in 0..<8 { buf[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i))) }
            }
            var out = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &raw, &out, socklen_t(out.count)) != nil else { return "::" }
            return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// The address with all bits after `prefixLength` cleared.
    func masked(to prefixLength: Int) -> IPAddress {
        let hostBits = bitWidth - prefixLength
        let (maskHigh, maskLow) = IPAddress.mask(hostBits: hostBits)
        switch family {
        case .ipv4: return IPAddress(v4: UInt32(truncatingIfNeeded: low & maskLow))
        case .ipv6: return IPAddress(v6: high & maskHigh, low & maskLow)
        }
    }

    /// A 128-bit mask with the lowest `hostBits` bits clear.
    private static func mask(hostBits: Int) -> (UInt64, UInt64) {
        if hostBits <= 0 { return (~0, ~0) }
        if hostBits >= 128 { return (0, 0) }
        if hostBits >= 64 { return (~0 << UInt64(hostBits - 64), 0) }
        return (~0, ~0 << UInt64(hostBits))
    }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        if a.family != b.family { return a.family == .ipv4 }
        return (a.high, a.low) < (b.high, b.low)
    }
}
