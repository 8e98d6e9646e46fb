import Foundation
import KubeModel

/// An object the API serves that could not be read (a malformed policy a buggy controller wrote).
public struct ObjectRejection: Sendable, Equatable, CustomStringConvertible {
    public var resource: APIResource
    /// The store key: `namespace/name`, or `name` for cluster-scoped kinds.
    public var key: String
    public var error: String
    /// Whether a last good version is kept in the store in its place (fail closed).
    public var keptLastGood: Bool

    public init(resource: APIResource, key: String, error: String, keptLastGood: Bool) {
        self.resource = resource
        self.key = key
        self.error = error
        self.keptLastGood = keptLastGood
    }

    /// `Kind namespace/name`.
    public var object: String { "\(resource.kind) \(key)" }

    public var description: String {
        error + (keptLastGood ? " (its last good version stays in force)" : " (ignored until it is fixed)")
    }
}
