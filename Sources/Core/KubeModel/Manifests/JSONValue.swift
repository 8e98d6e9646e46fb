import Foundation
import Yams

/// A parsed JSON (or YAML) document before it is read into typed objects. Keeping the raw tree lets
/// every typed reader report the exact field path of a bad value.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// A short name of the value's type, for error messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .double: "number"
        case .string: "string"
        case .array: "list"
        case .object: "object"
        }
    }

    /// The value as it would be written, for error messages (strings quoted, containers abbreviated).
    var shortText: String {
        switch self {
        case .null: "null"
        case .bool(let b): String(b)
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .string(let s): "\"\(s)\""
        case .array: "[...]"
        case .object: "{...}"
        }
    }
}

extension JSONValue: Decodable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }
}

extension JSONValue {
    /// Parses one JSON document.
    public static func parseJSON(_ data: Data) throws -> JSONValue {
        try JSONParser.parse(data)
    }

    /// The largest manifest file or YAML stream read (kubectl's own limit on a request is 3 MiB).
    public static let maxDocumentBytes = 64 << 20

    /// Parses every document of a YAML stream; empty documents are dropped. Aliases are expanded with a
    /// budget: a "billion laughs" document is an error, not a process that grows until it dies.
    public static func parseYAMLDocuments(_ text: String) throws -> [JSONValue] {
        let size = text.utf8.count
        guard size <= maxDocumentBytes else { throw YAMLLimitError.tooLarge(bytes: size, limit: maxDocumentBytes) }
        // Yams' compose_all sequence swallows parse errors: drive the parser so that they surface.
        // The basic resolver: plain scalars are typed by `YAMLScalarType` below. Yams' default resolver compiles its
        // rules with NSRegularExpression, which builds ICU's Unicode sets: about a megabyte made resident in the
        // agent, to read a kubeconfig.
        let parser = try Parser(yaml: text, resolver: .basic)
        // Without aliases a document has fewer values than bytes; aliases may multiply that by a little.
        var budget = YAMLBudget(remaining: min(10 * size + 10_000, 20_000_000))
        var documents: [JSONValue] = []
        while let node = try parser.nextRoot() {
            let value = try JSONValue(yaml: node, budget: &budget)
            if value != .null { documents.append(value) }
        }
        return documents
    }

    struct YAMLBudget {
        var remaining: Int
        let limit: Int
        init(remaining: Int) {
            self.remaining = remaining
            limit = remaining
        }
    }

    init(yaml node: Yams.Node, budget: inout YAMLBudget) throws {
        budget.remaining -= 1
        guard budget.remaining >= 0 else { throw YAMLLimitError.tooManyValues(limit: budget.limit) }
        switch node {
        case .scalar(let scalar):
            // Quoted scalars are strings whatever they look like; plain ones are typed as YAML 1.1 types them; an
            // explicit tag (`!!str 5`) is kept.
            let tag =
                scalar.tag.description == Tag.Name.implicit.rawValue
                ? (scalar.style == .plain ? YAMLScalarType.of(scalar.string) : .str)
                : Tag.Name(rawValue: node.tag.rawValue)
            switch tag {
            case .int where scalar.string.contains(":"), .float where scalar.string.contains(":"):
                // YAML 1.1's base 60 (`1:30`): a string, as kubectl's YAML reads it; Yams' conversion traps on
                // overflow (found by scripts/fuzz: `8044444444444444444:0`).
                self = .string(scalar.string)
            case .null: self = .null
            case .bool: self = Bool.construct(from: scalar).map(JSONValue.bool) ?? .string(scalar.string)
            case .int: self = Int.construct(from: scalar).map { .int(Int64($0)) } ?? .string(scalar.string)
            case .float: self = Double.construct(from: scalar).map(JSONValue.double) ?? .string(scalar.string)
            default: self = .string(scalar.string)
            }
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping {
                let name = key.string ?? ""
                guard object.updateValue(try JSONValue(yaml: value, budget: &budget), forKey: name) == nil else {
                    throw YAMLLimitError.duplicateKey(name, line: key.mark.map { $0.line })
                }
            }
            self = .object(object)
        case .sequence(let sequence):
            var items: [JSONValue] = []
            items.reserveCapacity(sequence.count)
            for item in sequence { items.append(try JSONValue(yaml: item, budget: &budget)) }
            self = .array(items)
        case .alias:
            self = .null
        }
    }
}

/// A YAML document refused before it could exhaust memory, or one with a repeated key.
public enum YAMLLimitError: Error, Sendable, CustomStringConvertible {
    case tooLarge(bytes: Int, limit: Int)
    case tooManyValues(limit: Int)
    case duplicateKey(String, line: Int?)

    public var description: String {
        switch self {
        case .tooLarge(let bytes, let limit):
            "the document is \(bytes) bytes, more than the \(limit >> 20) MiB read"
        case .tooManyValues(let limit):
            "the document expands to more than \(limit) values (YAML aliases nested as in \"billion laughs\"?)"
        case .duplicateKey(let key, let line):
            "mapping key \"\(key)\" already defined" + (line.map { " (line \($0))" } ?? "")
        }
    }
}

extension JSONValue: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

extension JSONValue {
    /// Compact JSON text (keys sorted, so that equal values serialise equally).
    public func jsonData() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data("null".utf8)
    }

    public subscript(key: String) -> JSONValue? {
        get { if case .object(let o) = self { o[key] } else { nil } }
        set {
            guard case .object(var o) = self else { return }
            o[key] = newValue
            self = .object(o)
        }
    }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var intValue: Int? {
        switch self {
        case .int(let i): Int(i)
        case .double(let d) where d.rounded() == d: Int(d)
        default: nil
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

/// The type of a plain YAML scalar, by the rules of Yams' default resolver (YAML 1.1's bool, int, float and null, in
/// that order), matched by hand instead of by its regular expressions.
enum YAMLScalarType {
    static func of(_ text: String) -> Tag.Name {
        let b = Array(text.utf8)
        if isBool(text) { return .bool }
        if isInt(b) { return .int }
        if isFloat(b) { return .float }
        if ["~", "null", "Null", "NULL", ""].contains(text) { return .null }
        return .str
    }

    static func isBool(_ text: String) -> Bool {
        [
            "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on", "On",
            "ON", "off", "Off", "OFF",
        ].contains(text)
    }

    private static func digit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    /// `[-+]?`: where the rest starts.
    private static func signed(_ b: [UInt8]) -> Int { !b.isEmpty && (b[0] == 43 || b[0] == 45) ? 1 : 0 }

    /// At least one byte from `i` to the end, each allowed.
    private static func rest(_ b: [UInt8], from i: Int, _ allowed: (UInt8) -> Bool) -> Bool {
        i < b.count && b[i...].allSatisfy(allowed)
    }

    /// `(?::[0-5]?[0-9])+` from `start`: where it ends (`start` when there is none).
    private static func sexagesimal(_ b: [UInt8], from start: Int) -> Int {
        var i = start
        while i < b.count, b[i] == 58 {
            var j = i + 1
            if j + 1 < b.count, b[j] >= 48, b[j] <= 53, digit(b[j + 1]) {
                j += 2
            } else if j < b.count, digit(b[j]) {
                j += 1
            } else {
                break
            }
            i = j
        }
        return i
    }

    /// `[0-9_]*` from `start`: where it ends.
    private static func digits(_ b: [UInt8], from start: Int) -> Int {
        var i = start
        while i < b.count, digit(b[i]) || b[i] == 95 { i += 1 }
        return i
    }

    static func isInt(_ b: [UInt8]) -> Bool {
        let s = signed(b)
        guard s < b.count else { return false }
        if b.count > s + 1, b[s] == 48, b[s + 1] == 98 {
            return rest(b, from: s + 2) { $0 == 48 || $0 == 49 || $0 == 95 }
        }
        if b.count > s + 1, b[s] == 48, b[s + 1] == 120 {
            return rest(b, from: s + 2) { digit($0) || (65...70).contains($0) || (97...102).contains($0) || $0 == 95 }
        }
        if b[s] == 48 {
            // `0`, `0o?[0-7_]+`
            if b.count == s + 1 { return true }
            let from = b[s + 1] == 111 ? s + 2 : s + 1
            return rest(b, from: from) { ($0 >= 48 && $0 <= 55) || $0 == 95 }
        }
        guard b[s] >= 49, b[s] <= 57 else { return false }
        let end = digits(b, from: s + 1)
        if end == b.count { return true }
        // base 60: `[1-9][0-9_]*(?::[0-5]?[0-9])+`
        let sixty = sexagesimal(b, from: end)
        return sixty > end && sixty == b.count
    }

    static func isFloat(_ b: [UInt8]) -> Bool {
        let s = signed(b)
        let text = b[s...]
        if [".inf", ".Inf", ".INF"].contains(where: { text.elementsEqual($0.utf8) }) { return true }
        if s == 0, [".nan", ".NaN", ".NAN"].contains(where: { b.elementsEqual($0.utf8) }) { return true }
        guard s < b.count else { return false }
        func exponent(_ i: Int, signRequired: Bool) -> Bool {
            // `(?:[eE][-+]?[0-9]+)?` to the end
            if i == b.count { return true }
            guard b[i] == 101 || b[i] == 69 else { return false }
            var j = i + 1
            if j < b.count, b[j] == 43 || b[j] == 45 {
                j += 1
            } else if signRequired {
                return false
            }
            return rest(b, from: j, digit)
        }
        if b[s] == 46 {
            // `\.[0-9_]+(?:[eE][-+][0-9]+)?`, unsigned only
            guard s == 0 else { return false }
            let end = digits(b, from: 1)
            return end > 1 && exponent(end, signRequired: true)
        }
        guard digit(b[s]) else { return false }
        let whole = digits(b, from: s + 1)
        // `[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*`
        let sixty = sexagesimal(b, from: whole)
        if sixty > whole {
            return sixty < b.count && b[sixty] == 46 && digits(b, from: sixty + 1) == b.count
        }
        // `[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?`
        var i = whole
        if i < b.count, b[i] == 46 { i = digits(b, from: i + 1) }
        return exponent(i, signRequired: false)
    }
}
