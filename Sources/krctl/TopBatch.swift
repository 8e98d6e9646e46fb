import Foundation
import TopUI

/// `krctl top --once` and `--iterations K` without a terminal: each snapshot as text (every pane's table, all
/// columns), as JSON or as JSON lines.
enum TopBatch {
    /// One snapshot as the panes' tables.
    static func text(_ model: TopModel) -> String {
        var out =
            "krctl top: " + model.headerFields.map(\.0).joined(separator: ", ")
            + ", interval \(TopText.interval(model.snapshot.interval))"
            + (model.snapshot.elapsed.map { ", rates over \(String(format: "%.1f", $0))s" } ?? "") + "\n"
        if !model.syncFields.isEmpty { out += "last sync: " + model.syncFields.joined(separator: "  ") + "\n" }
        if !model.focusPath.isEmpty { out += "path: " + model.focusPath.joined(separator: "  ") + "\n" }
        for pane in TopPane.allCases where pane != .overview {
            let table = model.table(pane)
            out += "\n\(pane.title.uppercased())\n"
            if table.rows.isEmpty {
                out += "  \(table.empty)\n"
                continue
            }
            out += Table.render([table.columns.map(\.title)] + table.rows.map(\.cells)) + "\n"
        }
        return out
    }

    /// The JSON document of `-o json`: the snapshot, or a list of them for more than one iteration.
    struct List: Encodable {
        var apiVersion = TopSnapshot.apiVersion
        var kind = "TopSnapshotList"
        var items: [TopSnapshot]
    }

    static func json(_ snapshots: [TopSnapshot]) throws -> String {
        let encoder = TopRecording.encoder(pretty: true)
        let data = snapshots.count == 1 ? try encoder.encode(snapshots[0]) : try encoder.encode(List(items: snapshots))
        return String(decoding: data, as: UTF8.self)
    }
}
