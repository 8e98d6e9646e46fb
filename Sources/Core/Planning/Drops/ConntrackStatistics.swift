/// The conntrack table's own drops, summed over CPUs (`/proc/net/stat/nf_conntrack`): packets no policy
/// refused. Parsed here (pure), read by Kernel.
public struct ConntrackStatistics: Sendable, Codable, Equatable {
    /// New connections that could not be inserted (a race between CPUs, or a clash).
    public var insertFailed: UInt64
    /// Packets dropped because the table was full.
    public var drop: UInt64
    /// Connections evicted early to make room.
    public var earlyDrop: UInt64
    /// Packets conntrack judged invalid (all of them, not only those our rules dropped).
    public var invalid: UInt64

    public init(insertFailed: UInt64 = 0, drop: UInt64 = 0, earlyDrop: UInt64 = 0, invalid: UInt64 = 0) {
        self.insertFailed = insertFailed
        self.drop = drop
        self.earlyDrop = earlyDrop
        self.invalid = invalid
    }

    /// Parses the file: a header line of column names, then one line of hexadecimal values per CPU.
    public init?(text: String) {
        let lines = text.split(separator: "\n")
        guard let header = lines.first?.split(separator: " ").map(String.init) else { return nil }
        var sums = [String: UInt64]()
        for line in lines.dropFirst() {
            for (name, value) in zip(header, line.split(separator: " ")) {
                sums[name, default: 0] &+= UInt64(value, radix: 16) ?? 0
            }
        }
        guard !sums.isEmpty else { return nil }
        self.init(
            insertFailed: sums["insert_failed"] ?? 0, drop: sums["drop"] ?? 0, earlyDrop: sums["early_drop"] ?? 0,
            invalid: sums["invalid"] ?? 0)
    }
}
