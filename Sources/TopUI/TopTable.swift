import Foundation

/// A pane's rows as values: columns with their widths and priorities (the least important go first when the
/// terminal is narrow), rows with a stable identity (the selection follows it), sort values and a tone.
public struct TopTable: Sendable, Equatable {
    public struct Column: Sendable, Equatable {
        public var title: String
        public var width: Int
        /// 0 is always shown; higher numbers are left out first.
        public var priority: Int
        public var numeric: Bool
        /// Takes the room that is left.
        public var flexible: Bool
        public init(_ title: String, _ width: Int, priority: Int = 0, numeric: Bool = false, flexible: Bool = false) {
            self.title = title
            self.width = width
            self.priority = priority
            self.numeric = numeric
            self.flexible = flexible
        }
    }

    public enum Tone: String, Sendable, Equatable { case normal, good, warn, bad, dim }

    public enum SortValue: Sendable, Equatable, Comparable {
        case number(Double)
        case text(String)

        public static func < (a: SortValue, b: SortValue) -> Bool {
            switch (a, b) {
            case (.number(let x), .number(let y)): x < y
            case (.text(let x), .text(let y)): x.localizedStandardCompare(y) == .orderedAscending
            case (.number, .text): true
            case (.text, .number): false
            }
        }
    }

    public struct Row: Sendable, Equatable {
        public var id: String
        public var cells: [String]
        /// One per column; a missing value (a rate not known yet) sorts as the lowest.
        public var sort: [SortValue]
        public var tone: Tone
        /// The detail strip's lines for this row: made when asked (only the selected row's are shown, and a
        /// pane has thousands of rows).
        public var detail: [String] { makeDetail() }
        private var makeDetail: @Sendable () -> [String]
        /// Cells that show an age ("4s ago"), by column: the time it is counted from, so that a kept table's
        /// ages can be brought up to date (`aged(now:)`) without building it again.
        public var ages: [Int: Date] = [:]
        public init(
            id: String, cells: [String], sort: [SortValue]? = nil, tone: Tone = .normal,
            detail: @autoclosure @escaping @Sendable () -> [String] = []
        ) {
            self.id = id
            self.cells = cells
            self.sort = sort ?? cells.map { .text($0) }
            self.tone = tone
            self.makeDetail = detail
        }

        public static func == (a: Row, b: Row) -> Bool {
            a.id == b.id && a.cells == b.cells && a.sort == b.sort && a.tone == b.tone && a.ages == b.ages
                && a.detail == b.detail
        }

        /// The row with its age cells counted to `now`.
        public func aged(now: Date) -> Row {
            guard !ages.isEmpty else { return self }
            var row = self
            for (column, since) in ages where column < row.cells.count {
                row.cells[column] = TopText.age(now.timeIntervalSince(since)) + " ago"
            }
            return row
        }
    }

    public var title: String
    public var columns: [Column]
    public var rows: [Row]
    /// Said when there is no row (why: "IPVS is not available on this kernel").
    public var empty: String
    /// Whether Enter drills into a row.
    public var drillable: Bool

    public init(title: String, columns: [Column], rows: [Row], empty: String, drillable: Bool = false) {
        self.title = title
        self.columns = columns
        self.rows = rows
        self.empty = empty
        self.drillable = drillable
    }

    /// The rows the filter keeps (case-insensitive substring of any cell; a leading `!` keeps the others),
    /// in the sort's order (`column` nil: the table's own; numbers largest first, text A–Z; `inverted` turns
    /// it round). Ties keep the table's order, so rows never jump.
    public func visible(filter: String, sort: TopState.Sort) -> [Row] {
        var kept = rows
        var needle = filter
        var invert = false
        if needle.hasPrefix("!") {
            invert = true
            needle.removeFirst()
        }
        if !needle.isEmpty {
            let lower = needle.lowercased()
            kept = kept.filter { row in
                row.cells.contains { $0.lowercased().contains(lower) } != invert
            }
        }
        guard let column = sort.column, column < columns.count else {
            return sort.inverted ? kept.reversed() : kept
        }
        let descending = columns[column].numeric != sort.inverted
        let indexed = kept.enumerated().map { ($0.offset, $0.element) }
        return indexed.sorted { a, b in
            let x = column < a.1.sort.count ? a.1.sort[column] : .number(-.infinity)
            let y = column < b.1.sort.count ? b.1.sort[column] : .number(-.infinity)
            if x == y { return a.0 < b.0 }
            return descending ? y < x : x < y
        }.map(\.1)
    }
}
