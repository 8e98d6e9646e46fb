/// Draws a frame: the model and the UI state to a grid of cells for one terminal size. Pure, so every size
/// (80×24, a 40×12 split, wide characters) is tested without a terminal. A terminal too small for the full
/// layout gets one compact pane; nothing is refused.
public struct TopRenderer: Sendable {
    public var ascii: Bool
    public var color: Bool

    public init(ascii: Bool = false, color: Bool = true) {
        self.ascii = ascii
        self.color = color
    }

    /// The layout's rows for a size: whether it is the full one, and how many table rows fit.
    public struct Layout: Sendable, Equatable {
        public var full: Bool
        public var bodyTop: Int
        public var bodyHeight: Int
        public var extraHeader: Int

        public init(width: Int, height: Int, focus: Bool) {
            full = width >= 50 && height >= 16
            extraHeader = full && focus ? 1 : 0
            bodyTop = full ? 3 + extraHeader : 1
            // full: separator, two detail lines and the key line below; compact: the key line
            bodyHeight = max(0, height - bodyTop - (full ? 4 : 1))
        }

        /// Table rows (below the column titles).
        public var page: Int { max(1, bodyHeight - 1) }
    }

    func tone(_ tone: TopTable.Tone) -> TopAttributes {
        switch tone {
        case .normal: []
        case .good: .green
        case .warn: .yellow
        case .bad: [.red, .bold]
        case .dim: .dim
        }
    }

    /// One frame. `tables` keeps the pane's table between frames (the dashboard passes one; without it the
    /// table is built for this frame).
    public func render(
        _ model: TopModel, _ state: TopState, width: Int, height: Int, tables: TopTableCache? = nil
    ) -> TopGrid {
        var grid = TopGrid(width: width, height: height)
        guard width > 0, height > 0 else { return grid }
        let layout = Layout(width: width, height: height, focus: model.focus != nil)
        header(&grid, model, state, layout)
        if layout.full { tabs(&grid, state, row: 2 + layout.extraHeader) }
        if layout.extraHeader == 1 {
            grid.put("▶ " + model.focusPath.joined(separator: "  "), row: 2, column: 0, attributes: .cyan)
        }
        var detail: [String] = []
        var footerTitle = ""
        if state.pane == .overview {
            overview(&grid, model, top: layout.bodyTop, height: layout.bodyHeight, full: layout.full)
            detail = model.snapshot.sources.map { "\($0.name): \($0.message)" }
            footerTitle = "Overview"
        } else {
            let (table, rows) = Self.visible(model, state, tables)
            let ids = rows.map(\.id)
            let selected = state.selectedIndex(in: ids)
            self.table(
                &grid, table, rows, selected: selected, sort: state.sort, top: layout.bodyTop,
                height: layout.bodyHeight)
            if let selected { detail = rows[selected].detail }
            footerTitle = "\(table.title) \(selected.map { "\($0 + 1)" } ?? "0")/\(rows.count)"
        }
        if layout.full {
            separator(&grid, row: height - 4, title: footerTitle, state: state)
            for (i, line) in detail.prefix(2).enumerated() {
                grid.put(line, row: height - 3 + i, column: 1)
            }
        }
        hints(&grid, state, row: height - 1, full: layout.full)
        if let overlay = state.overlay { self.overlay(&grid, overlay, model, state, tables) }
        if !color { grid = stripColors(grid) }
        return grid
    }

    func stripColors(_ grid: TopGrid) -> TopGrid {
        var out = TopGrid(width: grid.width, height: grid.height)
        for y in 0..<grid.height {
            for x in 0..<grid.width {
                let cell = grid.cells[y][x]
                out.set(
                    row: y, column: x, TopGrid.Cell(text: cell.text, attributes: cell.attributes.subtracting(.colors)))
            }
        }
        return out
    }

    func header(_ grid: inout TopGrid, _ model: TopModel, _ state: TopState, _ layout: TopRenderer.Layout) {
        var x = grid.put(
            layout.full ? "krctl top" : "\(state.pane.number) \(state.pane.title)", row: 0, column: 0,
            attributes: .bold)
        var fields: [(String, TopTable.Tone)] = []
        if state.paused { fields.append(("PAUSED", .warn)) }
        if model.stale { fields.append(("STALE", .bad)) }
        fields += model.headerFields
        fields.append((TopText.interval(state.interval), .normal))
        let separator = ascii ? " | " : " │ "
        for (text, t) in fields {
            guard x < grid.width else { break }
            x += grid.put(separator, row: 0, column: x, attributes: .dim)
            var attributes = tone(t)
            if text == "PAUSED" || text == "STALE" { attributes.insert(.reverse) }
            x += grid.put(text, row: 0, column: x, attributes: attributes)
        }
        if layout.full {
            let syncs = model.syncFields
            grid.put(
                "last sync: " + (syncs.isEmpty ? "no status file of the agent" : syncs.joined(separator: "  ")),
                row: 1, column: 0, attributes: .dim)
        }
    }

    func tabs(_ grid: inout TopGrid, _ state: TopState, row: Int) {
        var x = 0
        let short = grid.width < 72
        for pane in TopPane.allCases {
            let label = short ? " \(pane.number) \(pane.title.prefix(4)) " : " \(pane.number) \(pane.title) "
            let attributes: TopAttributes = pane == state.pane ? [.reverse, .bold] : []
            x += grid.put(label, row: row, column: x, attributes: attributes)
            x += grid.put(" ", row: row, column: x)
        }
    }

    func separator(_ grid: inout TopGrid, row: Int, title: String, state: TopState) {
        let line = ascii ? "-" : "─"
        grid.put(String(repeating: line, count: grid.width), row: row, column: 0, attributes: .dim)
        grid.put(" \(title) ", row: row, column: 1, attributes: .bold)
        var right: [String] = []
        if !state.filter.isEmpty { right.append("filter: \(state.filter)") }
        if state.sort.column != nil || state.sort.inverted {
            right.append(
                "sort: \(state.sort.column.map { "#\($0 + 1)" } ?? "default")\(state.sort.inverted ? " inverted" : "")")
        }
        if !right.isEmpty {
            let text = " " + right.joined(separator: "  ") + " "
            let w = TopText.width(text)
            if w + TopText.width(title) + 4 < grid.width {
                grid.put(text, row: row, column: grid.width - w - 1, attributes: .cyan)
            }
        }
    }

    func hints(_ grid: inout TopGrid, _ state: TopState, row: Int, full: Bool) {
        if let draft = state.filterDraft {
            let x = grid.put("/", row: row, column: 0, attributes: .bold)
            let shown = grid.put(draft, row: row, column: x)
            grid.put(ascii ? "_" : "▏", row: row, column: x + shown)
            let help = "  Enter apply, Esc cancel, !text inverts"
            if x + shown + 1 + TopText.width(help) <= grid.width {
                grid.put(help, row: row, column: x + shown + 1, attributes: .dim)
            }
            return
        }
        let keys: [(String, String)] =
            full
            ? [
                ("1-6", "panes"), ("↑↓", "move"), ("⏎", "drill"), ("Esc", "back"), ("/", "filter"), ("s", "sort"),
                ("I", "invert"), ("space", "pause"), ("+-", "interval"), ("e", "explain"), ("c", "cmd"),
                ("?", "help"), ("q", "quit"),
            ]
            : [("1-6", ""), ("/", "filter"), ("?", "help"), ("q", "quit")]
        var x = 0
        for (key, what) in keys {
            let k =
                ascii ? Self.asciiKeys[key] ?? key : key
            let need = TopText.width(k) + (what.isEmpty ? 0 : 1 + TopText.width(what)) + 1
            guard x + need <= grid.width else { break }
            x += grid.put(k, row: row, column: x, attributes: .bold)
            if !what.isEmpty { x += grid.put(" " + what, row: row, column: x, attributes: .dim) }
            x += grid.put(" ", row: row, column: x)
        }
    }

    static let asciiKeys = ["↑↓": "jk", "⏎": "Ent"]

    /// The columns that fit `width`: the least important left out first, flexible ones given the rest.
    public static func columnWidths(_ columns: [TopTable.Column], width: Int) -> [(index: Int, width: Int)] {
        var shown = Array(columns.indices)
        func total(_ widths: [Int]) -> Int { widths.reduce(0, +) + max(0, widths.count - 1) }
        while total(shown.map { columns[$0].width }) > width,
            let drop = shown.filter({ columns[$0].priority > 0 }).max(by: {
                (columns[$0].priority, $0) < (columns[$1].priority, $1)
            })
        {
            shown.removeAll { $0 == drop }
        }
        var widths = shown.map { columns[$0].width }
        // Still too wide: shrink flexible columns, then the last ones.
        var over = total(widths) - width
        for i in widths.indices.reversed() where over > 0 && columns[shown[i]].flexible {
            let cut = min(over, max(0, widths[i] - 6))
            widths[i] -= cut
            over -= cut
        }
        for i in widths.indices.reversed() where over > 0 {
            let cut = min(over, max(0, widths[i] - 1))
            widths[i] -= cut
            over -= cut
        }
        // Room left: to the flexible columns.
        let flexible = widths.indices.filter { columns[shown[$0]].flexible }
        var spare = width - total(widths)
        if spare > 0 && !flexible.isEmpty {
            let share = spare / flexible.count
            for i in flexible {
                widths[i] += share
                spare -= share
            }
            widths[flexible.last!] += spare
        }
        return zip(shown, widths).map { ($0, $1) }.filter { $0.1 > 0 }
    }

    func table(
        _ grid: inout TopGrid, _ table: TopTable, _ rows: [TopTable.Row], selected: Int?, sort: TopState.Sort,
        top: Int, height: Int
    ) {
        guard height > 0 else { return }
        let layout = Self.columnWidths(table.columns, width: grid.width)
        var x = 0
        for (index, w) in layout {
            var title = table.columns[index].title
            if sort.column == index { title += (table.columns[index].numeric != sort.inverted) ? "▼" : "▲" }
            if ascii {
                title = title.replacingOccurrences(of: "▼", with: "v").replacingOccurrences(of: "▲", with: "^")
            }
            grid.put(
                TopText.fit(title, w, right: table.columns[index].numeric, ascii: ascii), row: top, column: x,
                attributes: [.bold, .underline])
            x += w + 1
        }
        guard !rows.isEmpty else {
            if height > 1 { grid.put(table.empty, row: top + 1, column: 1, attributes: .dim) }
            return
        }
        let page = max(1, height - 1)
        let selectedIndex = selected ?? 0
        let offset = selectedIndex >= page ? selectedIndex - page + 1 : 0
        for (i, row) in rows.dropFirst(offset).prefix(page).enumerated() {
            let y = top + 1 + i
            var attributes = tone(row.tone)
            let isSelected = offset + i == selected
            if isSelected { attributes.insert(.reverse) }
            var x = 0
            for (index, w) in layout {
                let text = index < row.cells.count ? row.cells[index] : ""
                grid.put(
                    TopText.fit(text, w, right: table.columns[index].numeric, ascii: ascii), row: y, column: x,
                    attributes: attributes)
                x += w + 1
            }
            if isSelected { grid.paint(row: y, from: 0, to: grid.width, .reverse) }
        }
    }

    func overview(_ grid: inout TopGrid, _ model: TopModel, top: Int, height: Int, full: Bool) {
        let tiles = model.tiles
        guard height > 0 else { return }
        let twoColumns = full && grid.width >= 60
        let perRow = height / (twoColumns ? 3 : tiles.count)
        if !twoColumns || perRow < 3 {
            // One line per tile: title, figures, sparkline.
            for (i, tile) in tiles.prefix(height).enumerated() {
                var x = grid.put(
                    TopText.fit(tile.title, 10), row: top + i, column: 0, attributes: tone(tile.tone).union(.bold))
                x +=
                    grid.put(
                        tile.lines.joined(separator: "; "), row: top + i, column: x + 1,
                        limit: max(0, grid.width - x - 14)) + 1
                grid.put(
                    TopHistory.sparkline(tile.series, width: 12, ascii: ascii), row: top + i,
                    column: max(x + 1, grid.width - 12), attributes: .cyan)
            }
            return
        }
        let tileWidth = (grid.width - 1) / 2
        let tileHeight = min(5, perRow)
        for (i, tile) in tiles.enumerated() {
            let y = top + (i / 2) * tileHeight
            let x = (i % 2) * (tileWidth + 1)
            grid.put(tile.title, row: y, column: x, attributes: tone(tile.tone).union(.bold), limit: tileWidth)
            for (j, line) in tile.lines.prefix(max(0, tileHeight - 2)).enumerated() {
                grid.put(line, row: y + 1 + j, column: x + 1, limit: tileWidth - 1)
            }
            if tileHeight >= 4 {
                grid.put(
                    TopHistory.sparkline(tile.series, width: tileWidth - 2, ascii: ascii), row: y + 3,
                    column: x + 1, attributes: .cyan)
            }
        }
    }

    /// The pane's table and its visible rows, from `tables` when given.
    public static func visible(
        _ model: TopModel, _ state: TopState, _ tables: TopTableCache?
    ) -> (table: TopTable, rows: [TopTable.Row]) {
        if let tables { return tables.visible(model, state) }
        let table = model.table(state.pane, drill: state.drill)
        return (table, table.visible(filter: state.filter, sort: state.sort))
    }

    func overlay(
        _ grid: inout TopGrid, _ overlay: TopState.Overlay, _ model: TopModel, _ state: TopState,
        _ tables: TopTableCache?
    ) {
        let lines: [String]
        let title: String
        let ids = Self.visible(model, state, tables).rows.map(\.id)
        let selected = state.selected(in: ids)
        switch overlay {
        case .help:
            title = "Keys"
            lines = TopModel.help
        case .explain:
            title = "Explain"
            lines = selected.map { model.explain(state.pane, $0) } ?? ["Nothing selected"]
        case .command:
            title = "Equivalent command"
            lines = [model.command(state.pane, state.drill == nil ? selected : state.drill)]
        }
        let innerWidth = min(grid.width - 4, max(TopText.width(title) + 4, (lines.map(TopText.width).max() ?? 0) + 2))
        let boxHeight = min(grid.height - 2, lines.count + 2)
        guard innerWidth > 2, boxHeight >= 3 else {
            grid.put(lines.first ?? "", row: 0, column: 0, attributes: .reverse)
            return
        }
        let left = (grid.width - innerWidth - 2) / 2
        let topRow = (grid.height - boxHeight) / 2
        let (h, v, tl, tr, bl, br) = ascii ? ("-", "|", "+", "+", "+", "+") : ("─", "│", "┌", "┐", "└", "┘")
        grid.put(tl + String(repeating: h, count: innerWidth) + tr, row: topRow, column: left, attributes: .bold)
        grid.put(" \(title) ", row: topRow, column: left + 2, attributes: .bold)
        for i in 0..<(boxHeight - 2) {
            let text = i < lines.count ? lines[i] : ""
            grid.put(
                v + " " + TopText.fit(text, innerWidth - 2, ascii: ascii) + " " + v, row: topRow + 1 + i, column: left)
        }
        grid.put(
            bl + String(repeating: h, count: innerWidth) + br, row: topRow + boxHeight - 1, column: left,
            attributes: .bold)
    }
}
