import KubeModel

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
