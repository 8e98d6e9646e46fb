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
