import Testing

@testable import krctl

/// A cell from the cluster or a peer never breaks krctl's table: no raw control character, one row per line.
struct TableTests {
    @Test func newlinesTabsAndEscapesInCellsStayOnTheirRow() {
        let text = Table.render([["PEER", "LAST NOTIFICATION"], ["10.0.0.1", "shutdown\nFORGED ROW\t\u{1B}[2J"]])
        let lines = text.split(separator: "\n")
        #expect(lines.count == 2, "\(text.debugDescription)")
        #expect(lines.last?.contains(#"shutdown\nFORGED ROW\t\x1b[2J"#) == true, "\(text.debugDescription)")
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    }
}
