import ArgumentParser

/// A Service named on the command line: `NAMESPACE/NAME` or `NAME` (in the namespace the command resolves).
struct ServiceArgument: CommandArgument, Hashable, CustomStringConvertible {
    var namespace: String?
    var name: String

    static let expected = "NAMESPACE/NAME or NAME"

    init?(argument: String) {
        guard let (namespace, name) = EndpointArgument.namespacedName(argument) else { return nil }
        self.namespace = namespace
        self.name = name
    }

    var description: String { namespace.map { "\($0)/\(name)" } ?? name }
}
