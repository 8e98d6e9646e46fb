import Foundation
import Yams

/// `-o` of every krctl command, as kubectl spells it.
public enum OutputFormat: String, Sendable, CaseIterable {
    case text, json, yaml
}

/// Renders command results. JSON keys are sorted so that output is byte-stable across runs.
public enum Render {
    public static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public static func yaml(_ value: some Encodable) throws -> String {
        let encoder = YAMLEncoder()
        encoder.options.sortKeys = false
        return try encoder.encode(value)
    }
}

/// Terminal capabilities for human output: colour only on a terminal, never with NO_COLOR
/// (https://no-color.org) or TERM=dumb.
public struct Terminal: Sendable {
    public var color: Bool

    public init(color: Bool) { self.color = color }

    public static func detect(fileDescriptor: Int32 = 1, environment: [String: String] = ProcessInfo.processInfo.environment) -> Terminal {
        let tty = isatty(fileDescriptor) == 1
        let disabled = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        return Terminal(color: tty && !disabled && environment["TERM"] != "dumb")
    }

    public enum Style: String, Sendable { case green = "32", red = "31", bold = "1", dim = "2", yellow = "33" }

    public func paint(_ text: String, _ style: Style) -> String {
        color ? "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m" : text
    }
}
