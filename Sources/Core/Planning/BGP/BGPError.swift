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
