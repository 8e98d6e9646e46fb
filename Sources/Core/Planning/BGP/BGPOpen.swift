import KubeModel

/// The OPEN message (RFC 4271 §4.2) with its capabilities (RFC 5492), including the extended
/// optional parameters length of RFC 9072.
public struct BGPOpen: Sendable, Equatable {
    public var version: UInt8 = 4
    /// The 2-octet "My AS": AS_TRANS (23456) when the real AS needs 4 octets (RFC 6793).
    public var myAS: UInt16
    public var holdTime: UInt16
    public var identifier: UInt32
    public var capabilities: [BGPCapability]

    public static let asTrans: UInt16 = 23456

    public init(asn: UInt32, holdTime: UInt16, identifier: UInt32, capabilities: [BGPCapability]) {
        myAS = asn > 0xFFFF ? Self.asTrans : UInt16(asn)
        self.holdTime = holdTime
        self.identifier = identifier
        self.capabilities = capabilities
    }

    /// The sender's AS: from the 4-octet AS capability when present, else My AS.
    public var asn: UInt32 {
        for case .fourOctetAS(let asn) in capabilities { return asn }
        return UInt32(myAS)
    }

    public var multiprotocol: [(afi: UInt16, safi: UInt8)] {
        capabilities.compactMap { if case .multiprotocol(let afi, let safi) = $0 { (afi, safi) } else { nil } }
    }

    public var supportsRouteRefresh: Bool { capabilities.contains { $0 == .routeRefresh } }
    public var supportsFourOctetAS: Bool { capabilities.contains { if case .fourOctetAS = $0 { true } else { false } } }
    public var gracefulRestart: BGPCapability.GracefulRestart? {
        for case .gracefulRestart(let gr) in capabilities { return gr }
        return nil
    }

    static func decode(_ r: inout WireReader) throws(BGPError) -> BGPOpen {
        let short = BGPError.badLength(r.end, "OPEN truncated")
        let version = try r.u8(or: short)
        guard version == 4 else {
            throw BGPError.openError(1, data: [0, 4], "version \(version); only BGP-4 is supported")
        }
        let myAS = try r.u16(or: short)
        let holdTime = try r.u16(or: short)
        guard holdTime == 0 || holdTime >= 3 else {
            throw BGPError.openError(6, "hold time \(holdTime) s (must be 0 or at least 3)")
        }
        let identifier = try r.u32(or: short)
        guard identifier != 0 else { throw BGPError.openError(3, "BGP identifier 0.0.0.0") }
        var paramsLength = Int(try r.u8(or: short))
        var extended = false
        // RFC 9072: a non-extended length of 255 followed by type 255 announces 2-octet lengths.
        if paramsLength == 255, r.remaining >= 3, r.bytes[r.offset] == 255 {
            _ = try r.u8(or: short)
            paramsLength = Int(try r.u16(or: short))
            extended = true
        }
        let malformed = BGPError.openError(0, "optional parameters do not add up to their length")
        guard paramsLength == r.remaining else { throw malformed }
        var capabilities: [BGPCapability] = []
        while !r.isAtEnd {
            let type = try r.u8(or: malformed)
            let length = extended ? Int(try r.u16(or: malformed)) : Int(try r.u8(or: malformed))
            var value = try r.sub(length, or: malformed)
            guard type == 2 else {
                // Authentication (1) is deprecated; anything but capabilities is unsupported.
                throw BGPError.openError(4, data: [type], "unsupported optional parameter \(type)")
            }
            while !value.isAtEnd {
                capabilities.append(try BGPCapability.decode(&value))
            }
        }
        var open = BGPOpen(asn: UInt32(myAS), holdTime: holdTime, identifier: identifier, capabilities: capabilities)
        open.myAS = myAS
        if let four = capabilities.lazy.compactMap({ if case .fourOctetAS(let a) = $0 { a } else { nil } }).first,
            four == 0
        {
            throw BGPError.openError(2, "4-octet AS 0")
        }
        return open
    }

    func encode(into w: inout WireWriter) {
        w.u8(version)
        w.u16(myAS)
        w.u16(holdTime)
        w.u32(identifier)
        var caps = WireWriter()
        for capability in capabilities { capability.encode(into: &caps) }
        if caps.bytes.isEmpty {
            w.u8(0)
        } else if caps.bytes.count + 2 <= 255 {
            // All capabilities in one parameter, as BIRD and GoBGP do.
            w.u8(UInt8(caps.bytes.count + 2))
            w.u8(2)
            w.u8(UInt8(caps.bytes.count))
            w.append(caps.bytes)
        } else {
            w.u8(255)
            w.u8(255)
            w.u16(UInt16(caps.bytes.count + 3))
            w.u8(2)
            w.u16(UInt16(caps.bytes.count))
            w.append(caps.bytes)
        }
    }
}
