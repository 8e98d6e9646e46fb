/// A field that failed validation: its path inside the object (`spec.ingress[0].ports[1].port`)
/// and what is wrong with it.
public struct FieldError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// A read-only view of one JSON object at a known path. Its accessors treat an absent key and an
/// explicit `null` alike (as the API does), and throw a `FieldError` naming the path on a wrong type.
package struct Fields {
    package let object: [String: JSONValue]
    package let path: String

    package init(_ object: [String: JSONValue], path: String = "") {
        self.object = object
        self.path = path
    }

    package init(_ value: JSONValue, path: String) throws {
        guard case .object(let object) = value else {
            throw FieldError(path, "expected an object, got \(value.typeName)")
        }
        self.init(object, path: path)
    }

    package func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    package func value(_ key: String) -> JSONValue? {
        switch object[key] {
        case nil, .null?: nil
        case let value?: value
        }
    }

    package func string(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let s) = value else {
            throw FieldError(child(key), "expected a string, got \(value.typeName) \(value.shortText)")
        }
        return s
    }

    package func requiredString(_ key: String) throws -> String {
        guard let s = try string(key), !s.isEmpty else { throw FieldError(child(key), "is required") }
        return s
    }

    package func int(_ key: String) throws -> Int? {
        guard let value = value(key) else { return nil }
        switch value {
        case .int(let i): return Int(i)
        case .double(let d) where d.rounded() == d && abs(d) < 1e15: return Int(d)
        default: throw FieldError(child(key), "expected an integer, got \(value.typeName) \(value.shortText)")
        }
    }

    package func bool(_ key: String) throws -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let b) = value else {
            throw FieldError(child(key), "expected true or false, got \(value.typeName) \(value.shortText)")
        }
        return b
    }

    package func fields(_ key: String) throws -> Fields? {
        guard let value = value(key) else { return nil }
        return try Fields(value, path: child(key))
    }

    /// The elements of a list, each with its path. `nil` when the key is absent, `[]` when it is an
    /// empty list: the two mean different things in a NetworkPolicy.
    package func list(_ key: String) throws -> [(value: JSONValue, path: String)]? {
        guard let value = value(key) else { return nil }
        guard case .array(let items) = value else {
            throw FieldError(child(key), "expected a list, got \(value.typeName)")
        }
        let base = child(key)
        return items.enumerated().map { (value: $0.element, path: "\(base)[\($0.offset)]") }
    }

    package func objects(_ key: String) throws -> [Fields]? {
        try list(key)?.map { try Fields($0.value, path: $0.path) }
    }

    package func strings(_ key: String) throws -> [String] {
        try (list(key) ?? []).map { item in
            guard case .string(let s) = item.value else {
                throw FieldError(item.path, "expected a string, got \(item.value.typeName) \(item.value.shortText)")
            }
            return s
        }
    }

    package func stringMap(_ key: String) throws -> [String: String] {
        guard let fields = try fields(key) else { return [:] }
        var result: [String: String] = [:]
        for (k, v) in fields.object {
            switch v {
            case .string(let s): result[k] = s
            case .null: result[k] = ""
            default:
                throw FieldError(
                    fields.child(k), "expected a string, got \(v.typeName) \(v.shortText) (quote the value)")
            }
        }
        return result
    }
}
