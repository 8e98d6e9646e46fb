/// The dashboard's UI state and its transitions: which pane, the selection (by row identity, so it follows
/// its row when the rows are sorted, filtered or change), sort, filter, drill-in, pause, interval, overlays.
/// Pure: `handle` takes a key and the rows on screen; tests drive it without a terminal.
public struct TopState: Sendable, Equatable {
    public struct Sort: Sendable, Equatable {
        public var column: Int?
        public var inverted: Bool
        public init(column: Int? = nil, inverted: Bool = false) {
            self.column = column
            self.inverted = inverted
        }
    }

    public struct Cursor: Sendable, Equatable {
        public var id: String?
        /// Where it was: where the selection lands when its row goes away.
        public var index: Int
    }

    public enum Overlay: String, Sendable, Equatable { case help, explain, command }

    /// What `handle` tells the caller beyond the state.
    public enum Effect: Sendable, Equatable { case none, quit, intervalChanged }

    public static let intervals: [Double] = [0.5, 1, 2, 5, 10, 30, 60]

    public var pane: TopPane = .overview
    public var cursors: [String: Cursor] = [:]
    public var sorts: [String: Sort] = [:]
    public var filters: [String: String] = [:]
    /// The row drilled into, per pane.
    public var drills: [TopPane: String] = [:]
    /// The filter being typed (after `/`), nil when not editing.
    public var filterDraft: String?
    public var paused = false
    public var interval: Double
    public var overlay: Overlay?

    public init(pane: TopPane = .overview, interval: Double = 2) {
        self.pane = pane
        self.interval = interval
    }

    /// The pane's current view: the pane, or the row drilled into (its own selection, sort and filter).
    public var scope: String { pane.rawValue + (drills[pane].map { ">" + $0 } ?? "") }

    public var sort: Sort { sorts[scope] ?? Sort() }
    public var filter: String { filterDraft ?? filters[scope] ?? "" }
    public var drill: String? { drills[pane] }

    /// The selected row among `rows` (ids in screen order): its own if still there, else the one now at its
    /// place.
    public func selected(in rows: [String]) -> String? {
        guard !rows.isEmpty else { return nil }
        let cursor = cursors[scope]
        if let id = cursor?.id, rows.contains(id) { return id }
        return rows[min(max(0, cursor?.index ?? 0), rows.count - 1)]
    }

    public func selectedIndex(in rows: [String]) -> Int? {
        selected(in: rows).flatMap { rows.firstIndex(of: $0) }
    }

    private mutating func select(_ index: Int, in rows: [String]) {
        guard !rows.isEmpty else { return }
        let i = min(max(0, index), rows.count - 1)
        cursors[scope] = Cursor(id: rows[i], index: i)
    }

    /// Applies one key. `rows`: the ids of the rows shown (filtered and sorted), `page`: how many fit,
    /// `columns`: the table's column count, `drillable`: whether Enter drills into its rows.
    @discardableResult
    public mutating func handle(
        _ key: TopKey, rows: [String] = [], page: Int = 10, columns: Int = 0, drillable: Bool = false
    ) -> Effect {
        if var draft = filterDraft {
            switch key {
            case .enter:
                filters[scope] = draft.isEmpty ? nil : draft
                filterDraft = nil
            case .escape:
                filterDraft = nil
            case .backspace:
                if !draft.isEmpty { draft.removeLast() }
                filterDraft = draft
            case .character(let c):
                draft.append(c)
                filterDraft = draft
            default:
                break
            }
            return .none
        }
        if overlay != nil {
            if key == .character("q") || key == .escape || key == .enter || key == .character("?")
                || key == .character("e") || key == .character("c")
            {
                overlay = nil
            }
            return .none
        }
        let current = selectedIndex(in: rows) ?? 0
        switch key {
        case .character("q"): return .quit
        case .character(let c) where ("1"..."6").contains(c):
            pane = TopPane.allCases[Int(String(c))! - 1]
        case .tab, .right: pane = pane.next
        case .backTab, .left: pane = pane.previous
        case .up, .character("k"): select(current - 1, in: rows)
        case .down, .character("j"): select(current + 1, in: rows)
        case .pageUp: select(current - max(1, page), in: rows)
        case .pageDown: select(current + max(1, page), in: rows)
        case .home, .character("g"): select(0, in: rows)
        case .end, .character("G"): select(rows.count - 1, in: rows)
        case .enter:
            if drill == nil, drillable, let id = selected(in: rows) { drills[pane] = id }
        case .escape, .backspace:
            if drill != nil {
                drills[pane] = nil
            } else {
                filters[scope] = nil
            }
        case .character("/"): filterDraft = filters[scope] ?? ""
        case .character("s"):
            guard columns > 0 else { break }
            var sort = self.sort
            let next = (sort.column ?? -1) + 1
            sort.column = next < columns ? next : nil
            sorts[scope] = sort
        case .character("I"):
            var sort = self.sort
            sort.inverted.toggle()
            sorts[scope] = sort
        case .character(" "): paused.toggle()
        case .character("+"):
            if let next = Self.intervals.first(where: { $0 > interval }) {
                interval = next
                return .intervalChanged
            }
        case .character("-"):
            if let next = Self.intervals.last(where: { $0 < interval }) {
                interval = next
                return .intervalChanged
            }
        case .character("?"): overlay = .help
        case .character("e"): if selected(in: rows) != nil { overlay = .explain }
        case .character("c"): overlay = .command
        default: break
        }
        return .none
    }
}
