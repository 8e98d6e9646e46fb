import KubeModel

/// One BGP-4 message (RFC 4271 §4), decoded from or encoded to its wire form (the 19-byte header
/// included). Decoding never traps: malformed input throws the `BGPError` to send as NOTIFICATION,
/// or, for the attribute errors RFC 7606 allows it, yields an UPDATE marked treat-as-withdraw.
public enum BGPMessage: Sendable, Equatable {
    case open(BGPOpen)
    case update(BGPUpdate)
    case notification(BGPNotification)
    case keepalive
    case routeRefresh(BGPRouteRefresh)

    public static let headerLength = 19
    /// Without the extended-message capability (RFC 8654), which we do not advertise.
    public static let maximumLength = 4096

    public var typeCode: UInt8 {
        switch self {
        case .open: 1
        case .update: 2
        case .notification: 3
        case .keepalive: 4
        case .routeRefresh: 5
        }
    }

    public var typeName: String {
        switch self {
        case .open: "OPEN"
        case .update: "UPDATE"
        case .notification: "NOTIFICATION"
        case .keepalive: "KEEPALIVE"
        case .routeRefresh: "ROUTE-REFRESH"
        }
    }

    /// What the peers negotiated that changes the encoding: 4-octet AS numbers in AS_PATH (RFC 6793).
    public struct Options: Sendable, Equatable {
        public var fourOctetAS: Bool
        public init(fourOctetAS: Bool = true) { self.fourOctetAS = fourOctetAS }
    }

    /// The length of the message at the start of `buffer`, once its header is there (nil before):
    /// checks the marker and the length field, as a stream reader must before waiting for the body.
    public static func frameLength(_ buffer: ArraySlice<UInt8>) throws(BGPError) -> Int? {
        guard buffer.count >= headerLength else { return nil }
        let start = buffer.startIndex
        for i in 0..<16 where buffer[start + i] != 0xFF { throw BGPError.notSynchronized() }
        let length = Int(buffer[start + 16]) << 8 | Int(buffer[start + 17])
        guard length >= headerLength, length <= maximumLength else {
            throw BGPError.badLength(length, "message length \(length) outside 19...4096")
        }
        return length
    }

    /// Decodes one whole message (header included).
    public static func decode(_ bytes: [UInt8], options: Options = Options()) throws(BGPError) -> BGPMessage {
        guard let length = try frameLength(bytes[...]), length == bytes.count else {
            throw BGPError.badLength(
                bytes.count, "message length field does not match the \(bytes.count) bytes received")
        }
        let type = bytes[18]
        var body = WireReader(bytes, from: headerLength)
        // Minimum (and for some, exact) lengths per type, checked before the body (RFC 4271 §6.1).
        switch type {
        case 1:
            guard length >= 29 else { throw BGPError.badLength(length, "OPEN shorter than 29 bytes") }
            return .open(try BGPOpen.decode(&body))
        case 2:
            guard length >= 23 else { throw BGPError.badLength(length, "UPDATE shorter than 23 bytes") }
            return .update(try BGPUpdate.decode(&body, options: options))
        case 3:
            guard length >= 21 else { throw BGPError.badLength(length, "NOTIFICATION shorter than 21 bytes") }
            let code = try body.u8(or: .badLength(length, ""))
            let subcode = try body.u8(or: .badLength(length, ""))
            return .notification(
                BGPNotification(
                    code: code, subcode: subcode, data: try body.take(body.remaining, or: .badLength(length, ""))))
        case 4:
            guard length == 19 else { throw BGPError.badLength(length, "KEEPALIVE of \(length) bytes, not 19") }
            return .keepalive
        case 5:
            guard length == 23 else { throw BGPError.badLength(length, "ROUTE-REFRESH of \(length) bytes, not 23") }
            let afi = try body.u16(or: .badLength(length, ""))
            let subtype = try body.u8(or: .badLength(length, ""))
            let safi = try body.u8(or: .badLength(length, ""))
            return .routeRefresh(BGPRouteRefresh(afi: afi, safi: safi, subtype: subtype))
        default:
            throw BGPError.badType(type)
        }
    }

    public func encode(options: Options = Options()) -> [UInt8] {
        var body = WireWriter()
        switch self {
        case .open(let open): open.encode(into: &body)
        case .update(let update): update.encode(into: &body, options: options)
        case .notification(let n):
            body.u8(n.code)
            body.u8(n.subcode)
            body.append(n.data)
        case .keepalive: break
        case .routeRefresh(let r):
            body.u16(r.afi)
            body.u8(r.subtype)
            body.u8(r.safi)
        }
        var out = [UInt8](repeating: 0xFF, count: 16)
        let length = Self.headerLength + body.bytes.count
        out += [UInt8(length >> 8), UInt8(length & 0xFF), typeCode]
        return out + body.bytes
    }
}

/// Address family and subsequent address family (RFC 4760).
public enum AFI: UInt16, Sendable { case ipv4 = 1, ipv6 = 2 }
public enum SAFI: UInt8, Sendable { case unicast = 1 }

// MARK: - NOTIFICATION, ROUTE-REFRESH

public struct BGPNotification: Sendable, Equatable, CustomStringConvertible {
    public var code: UInt8
    public var subcode: UInt8
    public var data: [UInt8]

    public init(code: UInt8, subcode: UInt8, data: [UInt8] = []) {
        self.code = code
        self.subcode = subcode
        self.data = data
    }

    public init(_ error: BGPError) { self.init(code: error.code, subcode: error.subcode, data: error.data) }

    public var description: String {
        var text = "\(Self.name(code: code, subcode: subcode)) (\(code)/\(subcode))"
        // A Cease with a shutdown communication (RFC 9003): a length byte, then UTF-8.
        if code == 6, subcode == 2 || subcode == 4, let n = data.first, n > 0, data.count >= 1 + Int(n) {
            text += ": \"\(String(decoding: data[1...Int(n)], as: UTF8.self))\""
        }
        return text
    }

    /// Names from the IANA registry (RFC 4271, 4486, 7313, 8203).
    public static func name(code: UInt8, subcode: UInt8) -> String {
        let codes: [UInt8: (String, [UInt8: String])] = [
            1: (
                "Message Header Error",
                [1: "Connection Not Synchronized", 2: "Bad Message Length", 3: "Bad Message Type"]
            ),
            2: (
                "OPEN Message Error",
                [
                    1: "Unsupported Version Number", 2: "Bad Peer AS", 3: "Bad BGP Identifier",
                    4: "Unsupported Optional Parameter", 6: "Unacceptable Hold Time", 7: "Unsupported Capability",
                    11: "Role Mismatch",
                ]
            ),
            3: (
                "UPDATE Message Error",
                [
                    1: "Malformed Attribute List", 2: "Unrecognized Well-known Attribute",
                    3: "Missing Well-known Attribute", 4: "Attribute Flags Error", 5: "Attribute Length Error",
                    6: "Invalid ORIGIN Attribute", 8: "Invalid NEXT_HOP Attribute", 9: "Optional Attribute Error",
                    10: "Invalid Network Field", 11: "Malformed AS_PATH",
                ]
            ),
            4: ("Hold Timer Expired", [:]),
            5: (
                "Finite State Machine Error",
                [
                    1: "Unexpected Message in OpenSent", 2: "Unexpected Message in OpenConfirm",
                    3: "Unexpected Message in Established",
                ]
            ),
            6: (
                "Cease",
                [
                    1: "Maximum Number of Prefixes Reached", 2: "Administrative Shutdown", 3: "Peer De-configured",
                    4: "Administrative Reset", 5: "Connection Rejected", 6: "Other Configuration Change",
                    7: "Connection Collision Resolution", 8: "Out of Resources", 9: "Hard Reset", 10: "BFD Down",
                ]
            ),
            7: ("ROUTE-REFRESH Message Error", [1: "Invalid Message Length"]),
        ]
        guard let (name, subcodes) = codes[code] else { return "Unknown error \(code)" }
        if subcode == 0 { return name }
        return "\(name) / \(subcodes[subcode] ?? "subcode \(subcode)")"
    }
}

/// RFC 2918 (subtype 0), with RFC 7313's subtypes (1 BoRR, 2 EoRR).
public struct BGPRouteRefresh: Sendable, Equatable {
    public var afi: UInt16
    public var safi: UInt8
    public var subtype: UInt8

    public init(afi: UInt16, safi: UInt8, subtype: UInt8 = 0) {
        self.afi = afi
        self.safi = safi
        self.subtype = subtype
    }
}
