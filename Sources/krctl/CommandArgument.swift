import ArgumentParser

/// A value krctl reads from its command line that parses itself: ports, endpoints, pods, services,
/// durations. Commands get the typed value, or ArgumentParser stops with a usage error (exit status 64).
///
/// Options declare `transform: T.parse` rather than relying on `init?(argument:)` alone: ArgumentParser
/// only says why a value is wrong when the parse throws, and then names the option, the value and the
/// reason: `The value '99999' is invalid for '--port <port>': expected NUMBER[/PROTOCOL] ...`.
protocol CommandArgument: ExpressibleByArgument {
    /// What a valid value looks like, for the usage error ("expected ...").
    static var expected: String { get }
}

extension CommandArgument {
    /// `init(argument:)` for `@Option(transform:)` and `@Argument(transform:)`: the failure says what was expected.
    static func parse(_ argument: String) throws -> Self {
        guard let value = Self(argument: argument) else { throw InvalidArgument(expected: expected) }
        return value
    }
}

/// Why an argument was refused; ArgumentParser prints it after the option's name and the value.
struct InvalidArgument: Error, CustomStringConvertible {
    var expected: String
    var description: String { "expected \(expected)" }
}
