import KubeModel

/// A problem with a query (unknown pod, pod without an address, ...), worded for the operator.
public struct QueryError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
