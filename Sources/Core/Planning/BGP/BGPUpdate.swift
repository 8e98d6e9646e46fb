import KubeModel

/// The UPDATE message (RFC 4271 §4.3): withdrawn routes, path attributes, NLRI; IPv6 and other
/// families in MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760).
///
/// Errors follow RFC 7606: a malformed attribute that affects route selection makes the whole
/// UPDATE *treat-as-withdraw* (`treatAsWithdraw` holds why), a harmless one is discarded
/// (`discarded`), and only what makes the message unparseable (NLRI that cannot be located or
/// decoded, a broken MP attribute, an unrecognised well-known attribute) throws a `BGPError`.
public struct BGPUpdate: Sendable, Equatable {
    public var withdrawn: [CIDR]
    public var attributes: BGPPathAttributes
    public var nlri: [CIDR]
    /// Why every route of this UPDATE must be taken as withdrawn (RFC 7606), if so.
    public var treatAsWithdraw: String?
    /// Attributes dropped as malformed but harmless (RFC 7606 attribute-discard), for the log.
    public var discarded: [String]

    public init(withdrawn: [CIDR] = [], attributes: BGPPathAttributes = BGPPathAttributes(), nlri: [CIDR] = []) {
        self.withdrawn = withdrawn
        self.attributes = attributes
        self.nlri = nlri
        treatAsWithdraw = nil
        discarded = []
    }

    /// Every prefix announced: classic NLRI and MP_REACH_NLRI.
    public var announced: [CIDR] { nlri + (attributes.mpReach?.nlri ?? []) }
    /// Every prefix withdrawn: classic, MP_UNREACH_NLRI, and all announced ones under treat-as-withdraw.
    public var allWithdrawn: [CIDR] {
        withdrawn + (attributes.mpUnreach?.withdrawn ?? []) + (treatAsWithdraw != nil ? announced : [])
    }

    /// End-of-RIB (RFC 4724): an empty UPDATE for IPv4, an empty MP_UNREACH for other families.
    public var isEndOfRIB: Bool {
        guard withdrawn.isEmpty, nlri.isEmpty, attributes.mpReach == nil else { return false }
        if let unreach = attributes.mpUnreach { return unreach.withdrawn.isEmpty && attributes.origin == nil }
        return attributes == BGPPathAttributes()
    }

    public static func endOfRIB(afi: UInt16 = AFI.ipv4.rawValue, safi: UInt8 = SAFI.unicast.rawValue) -> BGPUpdate {
        var update = BGPUpdate()
        if afi != AFI.ipv4.rawValue { update.attributes.mpUnreach = .init(afi: afi, safi: safi, withdrawn: []) }
        return update
    }

    // MARK: Decoding

    static func decode(_ r: inout WireReader, options: BGPMessage.Options) throws(BGPError) -> BGPUpdate {
        let malformed = BGPError.updateError(1, "withdrawn routes or path attributes overrun the message")
        let withdrawnLength = Int(try r.u16(or: malformed))
        var withdrawnReader = try r.sub(withdrawnLength, or: malformed)
        let withdrawn = try decodePrefixes(&withdrawnReader, family: .ipv4, what: "withdrawn routes")
        let attributesLength = Int(try r.u16(or: malformed))
        var attributesReader = try r.sub(attributesLength, or: malformed)
        let nlri = try decodePrefixes(&r, family: .ipv4, what: "NLRI")
        var update = BGPUpdate(withdrawn: withdrawn, nlri: nlri)
        var attributes = BGPPathAttributes()
        var problems = BGPPathAttributes.Problems()
        try attributes.decode(&attributesReader, options: options, problems: &problems)
        update.attributes = attributes
        update.treatAsWithdraw = problems.treatAsWithdraw
        update.discarded = problems.discarded
        // Well-known mandatory attributes for routes being announced (RFC 7606 §3.d: treat-as-withdraw).
        if !update.announced.isEmpty, update.treatAsWithdraw == nil {
            var missing: [String] = []
            if update.attributes.origin == nil { missing.append("ORIGIN") }
            if update.attributes.asPath == nil { missing.append("AS_PATH") }
            if !nlri.isEmpty && update.attributes.nextHop == nil { missing.append("NEXT_HOP") }
            if !missing.isEmpty {
                update.treatAsWithdraw = "missing well-known attribute \(missing.joined(separator: ", "))"
            }
        }
        return update
    }

    /// Prefixes as length + the significant bytes; a bad length or a short field is an invalid network field.
    static func decodePrefixes(_ r: inout WireReader, family: IPAddress.Family, what: String) throws(BGPError) -> [CIDR]
    {
        var prefixes: [CIDR] = []
        let width = family == .ipv4 ? 32 : 128
        while !r.isAtEnd {
            let invalid = BGPError.updateError(10, "\(what): malformed prefix at byte \(r.offset)")
            let length = Int(try r.u8(or: invalid))
            guard length <= width else {
                throw BGPError.updateError(10, "\(what): prefix length \(length) over \(width)")
            }
            let bytes = try r.take((length + 7) / 8, or: invalid)
            var full = bytes + [UInt8](repeating: 0, count: width / 8 - bytes.count)
            if family == .ipv4 {
                let value = UInt32(full[0]) << 24 | UInt32(full[1]) << 16 | UInt32(full[2]) << 8 | UInt32(full[3])
                prefixes.append(CIDR(network: IPAddress(v4: value), prefixLength: length))
            } else {
                var h: UInt64 = 0
                var l: UInt64 = 0
                for i in 0..<8 { h = h << 8 | UInt64(full[i]) }
                for i in 8..<16 { l = l << 8 | UInt64(full[i]) }
                prefixes.append(CIDR(network: IPAddress(v6: h, l), prefixLength: length))
            }
            full.removeAll()
        }
        return prefixes
    }

    // MARK: Encoding

    func encode(into w: inout WireWriter, options: BGPMessage.Options) {
        var withdrawnBytes = WireWriter()
        for prefix in withdrawn { Self.encodePrefix(prefix, into: &withdrawnBytes) }
        w.u16(UInt16(withdrawnBytes.bytes.count))
        w.append(withdrawnBytes.bytes)
        var attributeBytes = WireWriter()
        attributes.encode(into: &attributeBytes, options: options)
        w.u16(UInt16(attributeBytes.bytes.count))
        w.append(attributeBytes.bytes)
        for prefix in nlri { Self.encodePrefix(prefix, into: &w) }
    }

    static func encodePrefix(_ prefix: CIDR, into w: inout WireWriter) {
        w.u8(UInt8(prefix.prefixLength))
        let bytes = prefix.network.bytes
        w.append(Array(bytes.prefix((prefix.prefixLength + 7) / 8)))
    }
}

extension IPAddress {
    /// Network byte order: 4 bytes for IPv4, 16 for IPv6.
    public var bytes: [UInt8] {
        if family == .ipv4 { return (0..<4).map { UInt8(truncatingIfNeeded: low >> (24 - 8 * $0)) } }
        return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
    }

    package init?(bytes: ArraySlice<UInt8>) {
        let b = Array(bytes)
        switch b.count {
        case 4: self.init(v4: UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3]))
        case 16:
            var h: UInt64 = 0
            var l: UInt64 = 0
            for i in 0..<8 { h = h << 8 | UInt64(b[i]) }
            for i in 8..<16 { l = l << 8 | UInt64(b[i]) }
            self.init(v6: h, l)
        default: return nil
        }
    }
}
