import ArgumentParser
import Foundation
import KubeModel

extension OutputFormat: ExpressibleByArgument {}

/// `-o` and `--no-color`, the same for every command that prints a result.
struct OutputOptions: ParsableArguments {
    @Option(
        name: [.customShort("o"), .long], help: ArgumentHelp("Output format: text, json or yaml.", valueName: "format"))
    var output: OutputFormat = .text

    @Flag(help: "Never colour the output (also: NO_COLOR=1).")
    var noColor = false

    var terminal: Terminal { noColor ? Terminal(color: false) : Terminal.detect() }

    /// Prints `value` as JSON or YAML, or as the text `text` renders (control characters from the cluster
    /// shown escaped).
    func emit<T: Encodable>(_ value: T, text: (Terminal) -> String) throws {
        switch output {
        case .json: print(try Render.json(value))
        case .yaml: print(try Render.yaml(value), terminator: "")
        case .text:
            let terminal = terminal
            print(terminal.safe(text(terminal)))
        }
    }
}
