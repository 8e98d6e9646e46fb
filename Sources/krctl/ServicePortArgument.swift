import ArgumentParser
import KubeModel

/// One port of a Service: its name, or a number that is its port or its node port.
enum ServicePortArgument: CommandArgument, Hashable, CustomStringConvertible {
    case number(Int)
    case name(String)

    static let expected = "a service port's name, or a number 1-65535 (its port or node port)"

    init?(argument: String) {
        if argument.allSatisfy(\.isASCII) && argument.allSatisfy(\.isNumber) {
            guard let number = Int(argument), (1...65535).contains(number) else { return nil }
            self = .number(number)
        } else if !argument.isEmpty && !argument.contains(where: \.isWhitespace) {
            self = .name(argument)
        } else {
            return nil
        }
    }

    func matches(_ port: Service.Port) -> Bool {
        switch self {
        case .number(let n): port.port == n || port.nodePort == n
        case .name(let name): port.name == name
        }
    }

    var description: String {
        switch self {
        case .number(let n): String(n)
        case .name(let name): name
        }
    }
}
