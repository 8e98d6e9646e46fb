/// How a cell is drawn: weight and colour on the terminal's own background (never a filled one, which is
/// unreadable on light terminals).
public struct TopAttributes: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let bold = TopAttributes(rawValue: 1 << 0)
    public static let dim = TopAttributes(rawValue: 1 << 1)
    public static let reverse = TopAttributes(rawValue: 1 << 2)
    public static let underline = TopAttributes(rawValue: 1 << 3)
    public static let red = TopAttributes(rawValue: 1 << 4)
    public static let green = TopAttributes(rawValue: 1 << 5)
    public static let yellow = TopAttributes(rawValue: 1 << 6)
    public static let cyan = TopAttributes(rawValue: 1 << 7)

    public static let colors: TopAttributes = [.red, .green, .yellow, .cyan]
}
