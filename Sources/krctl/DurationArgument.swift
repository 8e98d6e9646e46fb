import ArgumentParser
import KubeModel

/// A positive Go duration (`30s`, `2m`, `1m30s`), as kubectl's `--request-timeout` reads it.
struct DurationArgument: CommandArgument, Hashable, CustomStringConvertible {
    /// As written, for help and messages.
    var text: String
    var seconds: Double

    static let expected = "a Go duration above zero, such as 30s or 2m"

    init(seconds: Int) {
        self.text = "\(seconds)s"
        self.seconds = Double(seconds)
    }

    init?(argument: String) {
        guard let seconds = GoDuration.seconds(argument), seconds > 0 else { return nil }
        self.text = argument
        self.seconds = seconds
    }

    var description: String { text }
}
