import KubeModel

/// Splits a byte stream into newline-terminated lines (a watch's JSON events), in time linear in the
/// bytes: each byte is scanned once, however many chunks a large event arrives in, and consumed bytes
/// are dropped in amortised constant time. A line longer than `maxLine` is refused.
struct LineFramer {
    struct TooLong: Error, Sendable {
        var bytes: Int
        var limit: Int
    }

    let maxLine: Int
    private var buffer: [UInt8] = []
    /// The first byte not yet returned in a line.
    private var start = 0
    /// Bytes from `start` already known to hold no newline.
    private var scanned = 0

    init(maxLine: Int) { self.maxLine = maxLine }

    /// Bytes held that do not end a line yet.
    var pending: Int { buffer.count - start }

    /// Adds a chunk; calls `onLine` with each complete line (without its newline) until it returns false.
    /// Returns false when `onLine` did.
    mutating func feed(_ chunk: UnsafeRawBufferPointer, onLine: (ArraySlice<UInt8>) -> Bool) throws -> Bool {
        buffer.append(contentsOf: chunk)
        defer { compact() }
        while let newline = buffer[(start + scanned)...].firstIndex(of: UInt8(ascii: "\n")) {
            let line = buffer[start..<newline]
            start = newline + 1
            scanned = 0
            if !onLine(line) { return false }
        }
        scanned = buffer.count - start
        if scanned > maxLine { throw TooLong(bytes: scanned, limit: maxLine) }
        return true
    }

    private mutating func compact() {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
    }
}
