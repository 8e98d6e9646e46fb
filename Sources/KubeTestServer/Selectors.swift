import KubeModel

/// `labelSelector` and `fieldSelector` of list and watch requests, applied to stored JSON.
struct ObjectFilter: Sendable {
    var namespace: String?
    var labels: LabelSelector?
    /// (field path, value, equals) from `metadata.name=x`, `spec.nodeName!=y`.
    var fields: [(path: [String], value: String, equals: Bool)] = []

    init(namespace: String?, labelSelector: String?, fieldSelector: String?) throws {
        self.namespace = namespace
        if let labelSelector, !labelSelector.isEmpty {
            guard let parsed = LabelSelector(parsing: labelSelector) else {
                throw APIError.badRequest("unable to parse requirement: invalid label selector \"\(labelSelector)\"")
            }
            labels = parsed
        }
        for term in (fieldSelector ?? "").split(separator: ",") {
            let t = String(term)
            if let r = t.range(of: "!=") {
                fields.append(
                    (t[..<r.lowerBound].split(separator: ".").map(String.init), String(t[r.upperBound...]), false))
            } else if let r = t.range(of: "==") ?? t.range(of: "=") {
                fields.append(
                    (t[..<r.lowerBound].split(separator: ".").map(String.init), String(t[r.upperBound...]), true))
            } else {
                throw APIError.badRequest("invalid field selector \"\(t)\"")
            }
        }
    }

    func matches(_ object: JSONValue) -> Bool {
        let meta = object["metadata"]
        if let namespace, meta?["namespace"]?.stringValue != namespace { return false }
        if let labels {
            var map: [String: String] = [:]
            for (k, v) in meta?["labels"]?.objectValue ?? [:] { map[k] = v.stringValue ?? "" }
            if !labels.matches(map) { return false }
        }
        for field in fields {
            var value: JSONValue? = object
            for part in field.path { value = value?[part] }
            let text = value?.stringValue ?? ""
            if (text == field.value) != field.equals { return false }
        }
        return true
    }
}
