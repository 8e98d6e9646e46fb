import KubeModel

/// kubectl-style columns: left-aligned, separated by three spaces.
enum Table {
    static func render(_ rows: [[String]]) -> String {
        // Cells come from the cluster and from peers: control characters are shown escaped, and a newline or
        // tab in a cell as \n or \t, so one row stays one line.
        let rows = rows.map {
            $0.map {
                Terminal.escapingControlCharacters($0).replacingOccurrences(of: "\n", with: "\\n")
                    .replacingOccurrences(of: "\t", with: "\\t")
            }
        }
        guard let first = rows.first else { return "" }
        let widths = (0..<first.count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in
                c == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[c] - cell.count)
            }
            .joined(separator: "   ")
        }.joined(separator: "\n")
    }
}
