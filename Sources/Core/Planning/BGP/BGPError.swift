import KubeModel

/// An error a BGP speaker answers with a NOTIFICATION (RFC 4271 §4.5, §6): its code, subcode and the
/// data the RFC says to return, with a sentence for logs and `krctl bgp peers`.
public struct BGPError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: UInt8
    public var subcode: UInt8
    public var data: [UInt8]
    /// What was wrong, for the log (not sent).
    public var reason: String

    public init(_ code: UInt8, _ subcode: UInt8, data: [UInt8] = [], _ reason: String) {
        self.code = code
        self.subcode = subcode
        self.data = data
        self.reason = reason
    }

    public var description: String {
        "\(BGPNotification.name(code: code, subcode: subcode)) (\(code)/\(subcode)): \(reason)"
    }

    // Message Header Error (1)
    static func notSynchronized() -> BGPError { BGPError(1, 1, "the marker is not all ones") }
    static func badLength(_ length: Int, _ why: String) -> BGPError {
        BGPError(1, 2, data: [UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)], why)
    }
    static func badType(_ type: UInt8) -> BGPError { BGPError(1, 3, data: [type], "unknown message type \(type)") }

    // OPEN Message Error (2)
    static func openError(_ subcode: UInt8, data: [UInt8] = [], _ why: String) -> BGPError {
        BGPError(2, subcode, data: data, why)
    }

    // UPDATE Message Error (3)
    static func updateError(_ subcode: UInt8, data: [UInt8] = [], _ why: String) -> BGPError {
        BGPError(3, subcode, data: data, why)
    }
}

/// Reads a BGP message's bytes front to back; running out is reported by the caller's own error,
/// since which error it is depends on where (RFC 4271 §6).
struct WireReader {
    let bytes: [UInt8]
    var offset: Int
    let end: Int

    init(_ bytes: [UInt8], from offset: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    var remaining: Int { end - offset }
    var isAtEnd: Bool { offset >= end }

    mutating func u8(or error: BGPError) throws(BGPError) -> UInt8 {
        guard remaining >= 1 else { throw error }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16(or error: BGPError) throws(BGPError) -> UInt16 {
        guard remaining >= 2 else { throw error }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u32(or error: BGPError) throws(BGPError) -> UInt32 {
        guard remaining >= 4 else { throw error }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }

    mutating func take(_ count: Int, or error: BGPError) throws(BGPError) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw error }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// A reader over the next `count` bytes, which this one skips.
    mutating func sub(_ count: Int, or error: BGPError) throws(BGPError) -> WireReader {
        guard count >= 0, remaining >= count else { throw error }
        defer { offset += count }
        return WireReader(bytes, from: offset, to: offset + count)
    }
}

/// Builds a message in network byte order.
package struct WireWriter {
    package var bytes: [UInt8] = []

    package init() {}
    package mutating func u8(_ v: UInt8) { bytes.append(v) }
    package mutating func u16(_ v: UInt16) { bytes += [UInt8(v >> 8), UInt8(v & 0xFF)] }
    package mutating func u32(_ v: UInt32) {
        bytes += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }
    package mutating func append(_ b: [UInt8]) { bytes += b }
}
