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
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }
}

extension JSONValue {
    /// Parses one JSON document.
    public static func parseJSON(_ data: Data) throws -> JSONValue {
        try JSONParser.parse(data)
    }

    /// Parses every document of a YAML stream; empty documents are dropped.
    public static func parseYAMLDocuments(_ text: String) throws -> [JSONValue] {
        // Yams' compose_all sequence swallows parse errors: drive the parser so that they surface.
        let parser = try Parser(yaml: text)
        var documents: [JSONValue] = []
        while let node = try parser.nextRoot() {
            let value = JSONValue(yaml: node)
            if value != .null { documents.append(value) }
        }
        return documents
    }

    init(yaml node: Yams.Node) {
        switch node {
        case .scalar(let scalar):
            // Quoted scalars are strings whatever they look like; plain ones are typed by the resolver.
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: self = .null
            case .bool: self = node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case .int: self = node.int.map { .int(Int64($0)) } ?? .string(scalar.string)
            case .float: self = node.float.map(JSONValue.double) ?? .string(scalar.string)
            default: self = .string(scalar.string)
            }
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping {
                object[key.string ?? ""] = JSONValue(yaml: value)
            }
            self = .object(object)
        case .sequence(let sequence):
            self = .array(sequence.map(JSONValue.init(yaml:)))
        case .alias:
            self = .null
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
