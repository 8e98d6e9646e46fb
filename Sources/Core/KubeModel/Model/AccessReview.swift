import Foundation

/// A SelfSubjectAccessReview (`authorization.k8s.io/v1`): may the caller do `verb` on `resource`? The
/// API server answers for whoever asks, so the agent and krctl learn what their own credentials allow
/// without being able to read RBAC objects.
public struct AccessReview: Codable, Sendable, Equatable {
    /// What is asked: a verb on a resource of a group, in every namespace (`namespace` nil) or one.
    public struct Request: Codable, Sendable, Hashable, CustomStringConvertible {
        public var verb: String
        /// The API group: "" for the core group.
        public var group: String
        /// The plural resource name (`pods`, `endpointslices`).
        public var resource: String
        public var namespace: String?

        public init(verb: String, group: String, resource: String, namespace: String? = nil) {
            self.verb = verb
            self.group = group
            self.resource = resource
            self.namespace = namespace
        }

        /// `list endpointslices.discovery.k8s.io`, kubectl's spelling.
        public var description: String { "\(verb) \(group.isEmpty ? resource : "\(resource).\(group)")" }

        /// The request's object, as `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews` takes it.
        public var body: JSONValue {
            var attributes: [String: JSONValue] = [
                "verb": .string(verb), "group": .string(group), "resource": .string(resource),
            ]
            if let namespace { attributes["namespace"] = .string(namespace) }
            return .object([
                "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": .object(["resourceAttributes": .object(attributes)]),
            ])
        }
    }

    public var request: Request
    public var allowed: Bool
    /// The authorizer's reason, when it gives one.
    public var reason: String?

    public init(request: Request, allowed: Bool, reason: String? = nil) {
        self.request = request
        self.allowed = allowed
        self.reason = reason
    }

    /// Reads the server's answer (the review with its `status`); nil when it has no `status.allowed`.
    public init?(request: Request, answer: JSONValue) {
        guard case .bool(let allowed)? = answer["status"]?["allowed"] else { return nil }
        let reason = answer["status"]?["reason"]?.stringValue ?? answer["status"]?["evaluationError"]?.stringValue
        self.init(request: request, allowed: allowed, reason: reason.flatMap { $0.isEmpty ? nil : $0 })
    }
}
