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
        let parser = try Parser(yaml: text)
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
            // Quoted scalars are strings whatever they look like; plain ones are typed by the resolver.
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .int where scalar.string.contains(":"), .float where scalar.string.contains(":"):
                // YAML 1.1's base 60 (`1:30`): a string, as kubectl's YAML reads it; Yams' conversion traps on
                // overflow (found by scripts/fuzz: `8044444444444444444:0`).
                self = .string(scalar.string)
            case .null: self = .null
            case .bool: self = node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case .int: self = node.int.map { .int(Int64($0)) } ?? .string(scalar.string)
            case .float: self = node.float.map(JSONValue.double) ?? .string(scalar.string)
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
