/// A transport protocol as the API spells it.
public enum PortProtocol: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    case tcp = "TCP"
    case udp = "UDP"
    case sctp = "SCTP"

    /// Case-insensitive parse, for the command line (`80/tcp`).
    public init?(caseInsensitive text: some StringProtocol) {
        self.init(rawValue: text.uppercased())
    }

    /// Reads an API `protocol` field: absent means TCP; the API itself is case-sensitive.
    init(_ fields: Fields, key: String = "protocol") throws {
        guard let text = try fields.string(key) else {
            self = .tcp
            return
        }
        guard let p = PortProtocol(rawValue: text) else {
            throw FieldError(fields.child(key), "unknown protocol \"\(text)\" (expected TCP, UDP or SCTP)")
        }
        self = p
    }

    public static func < (a: PortProtocol, b: PortProtocol) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
