/// The part of `metadata` every controller and explainer needs.
public struct ObjectMeta: Sendable, Hashable {
    public var name: String
    /// Empty for cluster-scoped objects (Namespace, Node).
    public var namespace: String
    public var labels: [String: String]
    public var annotations: [String: String]
    public var uid: String
    public var resourceVersion: String

    public init(
        name: String, namespace: String = "", labels: [String: String] = [:],
        annotations: [String: String] = [:], uid: String = "", resourceVersion: String = ""
    ) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
        self.uid = uid
        self.resourceVersion = resourceVersion
    }

    /// `namespace/name`, or `name` for cluster-scoped objects: the key operators type.
    public var key: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }

    init(_ fields: Fields, namespaced: Bool) throws {
        guard let meta = try fields.fields("metadata") else { throw FieldError("metadata.name", "is required") }
        name = try meta.requiredString("name")
        // As kubectl does, a namespaced object without a namespace lands in "default".
        namespace = namespaced ? (try meta.string("namespace")).flatMap { $0.isEmpty ? nil : $0 } ?? "default" : ""
        labels = try meta.stringMap("labels")
        annotations = try meta.stringMap("annotations")
        uid = try meta.string("uid") ?? ""
        resourceVersion = try meta.string("resourceVersion") ?? ""
    }
}

/// Port numbers are 1...65535 everywhere in the API.
func validatePort(_ port: Int, at path: String) throws {
    guard (1...65535).contains(port) else {
        throw FieldError(path, "port \(port) is out of range (1-65535)")
    }
}

/// Parses an IP address field, naming the field on error.
func parseIP(_ text: String, at path: String) throws -> IPAddress {
    guard let ip = IPAddress(text) else { throw FieldError(path, "\"\(text)\" is not a valid IP address") }
    return ip
}

/// Parses a CIDR field, naming the field on error.
func parseCIDR(_ text: String, at path: String) throws -> CIDR {
    guard let cidr = CIDR(text) else {
        throw FieldError(path, "\"\(text)\" is not a valid CIDR (expected ADDRESS/PREFIX, e.g. 10.0.0.0/16)")
    }
    return cidr
}
