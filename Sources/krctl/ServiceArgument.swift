import ArgumentParser
import Planning

/// A Service named on the command line: `NAMESPACE/NAME` or `NAME` (in the namespace the command resolves).
struct ServiceArgument: CommandArgument, Hashable {
    var namespace: String?
    var name: String

    static let expected = "NAMESPACE/NAME or NAME"

    init?(argument: String) {
        guard let (namespace, name) = EndpointReference.namespacedName(argument) else { return nil }
        self.namespace = namespace
        self.name = name
    }
}
