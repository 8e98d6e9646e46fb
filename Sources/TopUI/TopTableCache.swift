import Foundation

/// The pane's table and its visible rows (filtered, sorted), kept from frame to frame while what they are made
/// of stays the same: the snapshot, the pane and its drill-in, the filter and the sort. The dashboard draws up
/// to ten frames a second (keys) and one a second for the ages, and at 2,000 services building the table costs
/// milliseconds; a new snapshot arrives once per interval. Age cells are counted again for each frame
/// (`Row.ages`); the Health pane, whose ages are in its text, is built again when the second changes.
/// One thread's (the dashboard's).
public final class TopTableCache: @unchecked Sendable {
    private struct Key: Equatable {
        var time: Date
        var node: String
        var focus: TopModel.Focus?
        var pane: TopPane
        var drill: String?
        var filter: String
        var sort: TopState.Sort
        var second: Int?
    }
    private var key: Key?
    private var table = TopTable(title: "", columns: [], rows: [], empty: "")
    private var rows: [TopTable.Row] = []
    /// How many times the table was built (for tests).
    public private(set) var builds = 0

    public init() {}

    /// The table of `state`'s pane for `model`, and its visible rows with their ages at the model's time.
    public func visible(_ model: TopModel, _ state: TopState) -> (table: TopTable, rows: [TopTable.Row]) {
        let key = Key(
            time: model.snapshot.time, node: model.snapshot.node, focus: model.focus, pane: state.pane,
            drill: state.drill, filter: state.filter, sort: state.sort,
            second: state.pane == .health ? Int(model.now.timeIntervalSince1970.rounded(.down)) : nil)
        if key != self.key {
            self.key = key
            table = model.table(state.pane, drill: state.drill)
            rows = table.visible(filter: state.filter, sort: state.sort)
            builds += 1
        }
        return (table, rows.map { $0.aged(now: model.now) })
    }
}
