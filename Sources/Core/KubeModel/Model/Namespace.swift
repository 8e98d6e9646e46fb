/// A Namespace. Only its labels matter to policy (namespaceSelector).
public struct Namespace: Sendable, Hashable {
    public var meta: ObjectMeta

    public init(meta: ObjectMeta) {
        self.meta = meta
        // The API server sets this label on every namespace (Kubernetes 1.21+); policies rely on it.
        self.meta.labels["kubernetes.io/metadata.name"] = meta.name
    }

    public init(name: String, labels: [String: String] = [:]) {
        self.init(meta: ObjectMeta(name: name, labels: labels))
    }

    public var name: String { meta.name }
    public var labels: [String: String] { meta.labels }

    init(_ fields: Fields) throws {
        self.init(meta: try ObjectMeta(fields, namespaced: false))
    }
}
