import KubeModel

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
