import KubeModel

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
