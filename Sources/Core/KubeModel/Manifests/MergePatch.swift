/// Patches as the API applies them to a stored object.
public enum MergePatch {
    /// RFC 7386 JSON merge patch: objects merge key by key, `null` deletes, anything else replaces.
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let patchObject) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in patchObject {
            if value == .null {
                result[key] = nil
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }

    /// A strategic merge patch (what `kubectl apply` sends for built-in kinds), to the extent our kinds
    /// need: merge-patch semantics, plus lists merged by key where the patch carries
    /// `$setElementOrder/FIELD` (kubectl sends it exactly for lists that have a merge key), element
    /// deletion with `$patch: delete`, `$patch: replace`, and `$deleteFromPrimitiveList/FIELD`.
    public static func applyStrategic(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let patchObject) = patch else { return patch }
        if patchObject["$patch"]?.stringValue == "replace" {
            var copy = patchObject
            copy["$patch"] = nil
            return stripDirectives(.object(copy))
        }
        var result = target.objectValue ?? [:]
        for (key, value) in patchObject {
            if key.hasPrefix("$setElementOrder/") || key == "$retainKeys" || key == "$patch" { continue }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let remove = value.arrayValue ?? []
                if let list = result[field]?.arrayValue { result[field] = .array(list.filter { !remove.contains($0) }) }
                continue
            }
            if value == .null {
                result[key] = nil
                continue
            }
            if case .object(let inner) = value, inner["$patch"]?.stringValue == "delete" {
                result[key] = nil
                continue
            }
            if case .array(let items) = value, let order = patchObject["$setElementOrder/\(key)"]?.arrayValue {
                result[key] = mergeList(items, into: result[key]?.arrayValue ?? [], order: order)
            } else if case .object = value {
                result[key] = applyStrategic(value, to: result[key] ?? .null)
            } else {
                result[key] = stripDirectives(value)
            }
        }
        return .object(result)
    }

    private static func mergeList(
        _ patchItems: [JSONValue], into original: [JSONValue], order: [JSONValue]
    ) -> JSONValue {
        // The merge key is the single key of the order entries, e.g. {"name": "web"}.
        guard let mergeKey = order.first?.objectValue?.keys.first(where: { !$0.hasPrefix("$") }) else {
            // A list of primitives: the order list is the full final list.
            return .array(order)
        }
        var merged = original
        for item in patchItems {
            guard let id = item[mergeKey] else { continue }
            let index = merged.firstIndex { $0[mergeKey] == id }
            if item["$patch"]?.stringValue == "delete" {
                if let index { merged.remove(at: index) }
            } else if let index {
                merged[index] = applyStrategic(item, to: merged[index])
            } else {
                merged.append(stripDirectives(item))
            }
        }
        let wanted = order.compactMap { $0[mergeKey] }
        let ordered = wanted.compactMap { id in merged.first { $0[mergeKey] == id } }
        let rest = merged.filter { element in !wanted.contains { $0 == element[mergeKey] } }
        return .array(ordered + rest)
    }

    private static func stripDirectives(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let o):
            var copy: [String: JSONValue] = [:]
            for (k, v) in o where !k.hasPrefix("$") { copy[k] = stripDirectives(v) }
            return .object(copy)
        case .array(let a): return .array(a.map(stripDirectives))
        default: return value
        }
    }

    /// RFC 6902 JSON Patch (`kubectl patch --type json`): add, remove, replace, move, copy, test.
    public static func applyJSONPatch(_ operations: JSONValue, to target: JSONValue) throws -> JSONValue {
        guard case .array(let ops) = operations else { throw PatchError("a JSON patch is a list of operations") }
        var document = target
        for (i, op) in ops.enumerated() {
            guard let name = op["op"]?.stringValue, let path = op["path"]?.stringValue else {
                throw PatchError("operation \(i): needs \"op\" and \"path\"")
            }
            let pointer = try parsePointer(path)
            switch name {
            case "add": document = try set(document, pointer, op["value"] ?? .null, insert: true)
            case "replace":
                _ = try get(document, pointer)
                document = try set(document, pointer, op["value"] ?? .null, insert: false)
            case "remove": document = try remove(document, pointer)
            case "move", "copy":
                guard let from = op["from"]?.stringValue else {
                    throw PatchError("operation \(i): \(name) needs \"from\"")
                }
                let source = try parsePointer(from)
                let value = try get(document, source)
                if name == "move" { document = try remove(document, source) }
                document = try set(document, pointer, value, insert: true)
            case "test":
                guard try get(document, pointer) == (op["value"] ?? .null) else {
                    throw PatchError("operation \(i): test failed at \(path)")
                }
            default: throw PatchError("operation \(i): unknown op \"\(name)\"")
            }
        }
        return document
    }

    public struct PatchError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    private static func parsePointer(_ path: String) throws -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw PatchError("path \"\(path)\" must start with /") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    private static func get(_ value: JSONValue, _ pointer: [String]) throws -> JSONValue {
        var current = value
        for token in pointer {
            switch current {
            case .object(let o):
                guard let next = o[token] else { throw PatchError("no member \"\(token)\"") }
                current = next
            case .array(let a):
                guard let index = Int(token), a.indices.contains(index) else { throw PatchError("no index \(token)") }
                current = a[index]
            default: throw PatchError("cannot descend into a \(current.typeName) at \"\(token)\"")
            }
        }
        return current
    }

    private static func set(_ value: JSONValue, _ pointer: [String], _ new: JSONValue, insert: Bool) throws -> JSONValue
    {
        guard let token = pointer.first else { return new }
        let rest = Array(pointer.dropFirst())
        switch value {
        case .object(var o):
            if rest.isEmpty {
                o[token] = new
            } else {
                guard let child = o[token] else { throw PatchError("no member \"\(token)\"") }
                o[token] = try set(child, rest, new, insert: insert)
            }
            return .object(o)
        case .array(var a):
            if rest.isEmpty {
                if token == "-" && insert {
                    a.append(new)
                    return .array(a)
                }
                guard let index = Int(token), index >= 0, index <= a.count, insert || index < a.count else {
                    throw PatchError("index \(token) is out of range")
                }
                if insert { a.insert(new, at: index) } else { a[index] = new }
            } else {
                guard let index = Int(token), a.indices.contains(index) else { throw PatchError("no index \(token)") }
                a[index] = try set(a[index], rest, new, insert: insert)
            }
            return .array(a)
        default:
            throw PatchError("cannot descend into a \(value.typeName) at \"\(token)\"")
        }
    }

    private static func remove(_ value: JSONValue, _ pointer: [String]) throws -> JSONValue {
        guard let token = pointer.first else { throw PatchError("cannot remove the whole document") }
        let rest = Array(pointer.dropFirst())
        switch value {
        case .object(var o):
            guard let child = o[token] else { throw PatchError("no member \"\(token)\"") }
            o[token] = rest.isEmpty ? nil : try remove(child, rest)
            return .object(o)
        case .array(var a):
            guard let index = Int(token), a.indices.contains(index) else { throw PatchError("no index \(token)") }
            if rest.isEmpty { a.remove(at: index) } else { a[index] = try remove(a[index], rest) }
            return .array(a)
        default:
            throw PatchError("cannot descend into a \(value.typeName) at \"\(token)\"")
        }
    }
}
