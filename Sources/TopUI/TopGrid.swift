/// A frame as rows of cells (text and attributes) for one terminal size: what the renderer makes and the
/// screen copies to the terminal. A wide character fills its cell and the next holds "" (its second column).
public struct TopGrid: Sendable, Equatable {
    public struct Cell: Sendable, Equatable {
        public var text: String
        public var attributes: TopAttributes
        public init(text: String = " ", attributes: TopAttributes = []) {
            self.text = text
            self.attributes = attributes
        }
    }

    public let width: Int
    public let height: Int
    public private(set) var cells: [[Cell]]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: Array(repeating: Cell(), count: self.width), count: self.height)
    }

    /// Writes `text` at (row, column), at most `limit` columns (default: to the edge), escaped and cut by
    /// display width; returns the columns used.
    @discardableResult
    public mutating func put(
        _ text: String, row: Int, column: Int, attributes: TopAttributes = [], limit: Int? = nil
    ) -> Int {
        guard row >= 0, row < height, column >= 0, column < width else { return 0 }
        let room = min(limit ?? (width - column), width - column)
        guard room > 0 else { return 0 }
        var x = column
        for c in TopText.safe(text) {
            let w = TopText.width(c)
            if w == 0 {
                if x > column { cells[row][x - 1].text.append(c) }
                continue
            }
            if x + w > column + room { break }
            cells[row][x] = Cell(text: String(c), attributes: attributes)
            if w == 2 { cells[row][x + 1] = Cell(text: "", attributes: attributes) }
            x += w
        }
        return x - column
    }

    /// Sets attributes over a span without changing its text (a selected row's highlight).
    public mutating func paint(row: Int, from column: Int, to end: Int, _ attributes: TopAttributes) {
        guard row >= 0, row < height else { return }
        for x in max(0, column)..<min(width, max(column, end)) { cells[row][x].attributes.formUnion(attributes) }
    }

    /// The frame as plain text, one line per row, trailing spaces removed: what `capture-pane -p` shows.
    public var text: String {
        cells.map { row in
            var line = row.map(\.text).joined()
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    public func line(_ row: Int) -> String {
        guard row >= 0, row < height else { return "" }
        return cells[row].map(\.text).joined()
    }

    /// The attributes of the cell at (row, column).
    public func attributes(row: Int, column: Int) -> TopAttributes {
        guard row >= 0, row < height, column >= 0, column < width else { return [] }
        return cells[row][column].attributes
    }
}

extension TopGrid {
    /// Replaces one cell as it is (the renderer's last pass).
    mutating func set(row: Int, column: Int, _ cell: Cell) {
        guard row >= 0, row < height, column >= 0, column < width else { return }
        cells[row][column] = cell
    }
}
