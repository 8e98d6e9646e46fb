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
            if value == .null { result[key] = nil; continue }
            if case .object(let inner) = value, inner["$patch"]?.stringValue == "delete" { result[key] = nil; continue }
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

    private static func mergeList(_ patchItems: [JSONValue], into original: [JSONValue], order: [JSONValue]) -> JSONValue {
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
}
