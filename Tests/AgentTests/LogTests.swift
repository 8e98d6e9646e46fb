import Foundation
import Logging
import Testing

@testable import Agent

/// The agent's text log: text from peers and the cluster (a NOTIFICATION's shutdown communication, an
/// object's name) never reaches the reader's terminal raw, and cannot forge a line of its own.
@Suite struct KlogLineTests {
    @Test func controlCharactersAndNewlinesInMessagesAreEscaped() {
        let hostile =
            "bgp: peer 10.0.0.5: received NOTIFICATION Cease: \u{1B}]0;pwned\u{07}\u{1B}[2J\nI00:00:00.000 forged"
        let line = KlogHandler.line(
            level: .warning, message: hostile, metadata: ["peer": "\u{1B}[31mred"], at: Date(timeIntervalSince1970: 0))
        #expect(
            !line.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) },
            "\(line.debugDescription)")
        #expect(
            line.hasPrefix("W") && line.contains(#"Cease: \x1b]0;pwned\x07\x1b[2J\nI00:00:00.000 forged"#), "\(line)")
        #expect(line.hasSuffix(#" peer=\x1b[31mred"#), "\(line)")
        // Plain text is left as it is.
        #expect(
            KlogHandler.line(level: .info, message: "router: synced", metadata: [:], at: Date()).hasSuffix(
                " router: synced"))
    }
}
