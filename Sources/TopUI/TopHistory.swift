/// The last values of the Overview's figures, one per snapshot shown, for the sparklines.
public struct TopHistory: Sendable, Equatable {
    public enum Series: String, Sendable, CaseIterable {
        case connections, drops, peers, routesMissing, conntrack, syncs
    }

    public static let length = 60
    public private(set) var values: [Series: [Double]] = [:]

    public init() {}

    public mutating func append(_ snapshot: TopSnapshot) {
        let figures: [Series: Double] = [
            .connections: snapshot.services.compactMap(\.rates?.connections).reduce(0, +),
            .drops: snapshot.dropsPerSecond ?? 0,
            .peers: Double(snapshot.peersEstablished),
            .routesMissing: Double(snapshot.routes.filter { !$0.inKernel && $0.status != "ok" }.count),
            .conntrack: Double(snapshot.conntrack?.count ?? 0),
            .syncs: Double(snapshot.controllers.reduce(0) { $0 + $1.syncs }),
        ]
        for (series, value) in figures {
            var list = values[series, default: []]
            list.append(value)
            if list.count > Self.length { list.removeFirst(list.count - Self.length) }
            values[series] = list
        }
    }

    public func series(_ series: Series) -> [Double] { values[series] ?? [] }

    /// The last `width` values as a sparkline: eighth blocks, or ASCII.
    public static func sparkline(_ values: [Double], width: Int, ascii: Bool) -> String {
        guard width > 0 else { return "" }
        let levels: [Character] =
            ascii ? [" ", ".", ":", "-", "=", "+", "*", "#"] : ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let shown = values.suffix(width)
        let low = shown.min() ?? 0
        let high = shown.max() ?? 0
        return String(
            shown.map { value -> Character in
                guard high > low else { return value > 0 ? levels[levels.count / 2] : levels[0] }
                let index = Int(((value - low) / (high - low) * Double(levels.count - 1)).rounded())
                return levels[Swift.max(0, Swift.min(levels.count - 1, index))]
            })
    }
}
