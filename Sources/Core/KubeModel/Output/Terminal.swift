import Foundation
import Yams

/// Terminal capabilities for human output: colour only on a terminal, never with NO_COLOR
/// (https://no-color.org) or TERM=dumb.
public struct Terminal: Sendable {
    public var color: Bool

    public init(color: Bool) { self.color = color }

    public static func detect(
        fileDescriptor: Int32 = 1, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Terminal {
        let tty = isatty(fileDescriptor) == 1
        let disabled = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        return Terminal(color: tty && !disabled && environment["TERM"] != "dumb")
    }

    public enum Style: String, Sendable, CaseIterable {
        case green = "32", red = "31", bold = "1", dim = "2", yellow = "33"
    }

    public func paint(_ text: String, _ style: Style) -> String {
        color ? "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m" : text
    }

    /// `text` made safe to print: control characters (an object name or label may hold any, and manifests
    /// are not validated by an API server) are shown escaped, so nothing read from the cluster can move
    /// the cursor, clear the screen, set the title or hide text. With colour on, only the styles `paint`
    /// writes pass as escape sequences. Newlines and tabs stay.
    public func safe(_ text: String) -> String {
        Self.escapingControlCharacters(text, allowStyles: color)
    }

    static let styleSequences: Set<String> = Set(Style.allCases.map { "[\($0.rawValue)m" } + ["[0m"])

    public static func escapingControlCharacters(_ text: String, allowStyles: Bool = false) -> String {
        let scalars = Array(text.unicodeScalars)
        guard scalars.contains(where: { needsEscape($0) }) else { return text }
        var out = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if c == "\u{1B}", allowStyles, let end = scalars[i...].prefix(5).firstIndex(of: "m"),
                styleSequences.contains(String(String.UnicodeScalarView(scalars[(i + 1)...end])))
            {
                out.append(contentsOf: scalars[i...end])
                i = end + 1
                continue
            }
            if needsEscape(c) {
                let hex = String(c.value, radix: 16, uppercase: false)
                out.append(
                    contentsOf: (c.value < 0x100
                        ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                        : "\\u{" + hex + "}").unicodeScalars)
            } else {
                out.append(c)
            }
            i += 1
        }
        return String(out)
    }

    /// C0 controls but newline and tab, DEL, C1 controls, and the bidirectional overrides and isolates
    /// that make text read differently from what it is.
    static func needsEscape(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x0A, 0x09: false
        case 0..<0x20, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
