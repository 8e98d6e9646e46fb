import Foundation
import TopUI

/// Where `krctl top`'s snapshots come from: the node (the collector, rates against the snapshot before), or
/// a recording (`--replay`); each one produced is also written to `--record FILE`.
final class TopFeed: @unchecked Sendable {
    enum Source {
        case live(TopCollector)
        case replay([TopSnapshot])
    }

    private let source: Source
    private var previous: TopSnapshot?
    private var position = 0
    private let record: FileHandle?

    var isReplay: Bool {
        if case .replay = source { return true }
        return false
    }

    init(_ source: Source, record: String?) throws {
        self.source = source
        if let record {
            guard FileManager.default.createFile(atPath: record, contents: nil),
                let handle = FileHandle(forWritingAtPath: record)
            else {
                throw CommandFailure("cannot write the recording \(record): check the directory and its permissions")
            }
            self.record = handle
        } else {
            self.record = nil
        }
    }

    /// The next snapshot with its rates; nil at the end of a recording.
    func next(interval: Double) -> TopSnapshot? {
        let raw: TopSnapshot
        switch source {
        case .live(let collector): raw = collector.collect(interval: interval)
        case .replay(let snapshots):
            guard position < snapshots.count else { return nil }
            raw = snapshots[position]
            position += 1
        }
        // A recording's first snapshot keeps the rates it was recorded with.
        let snapshot = previous == nil && isReplay ? raw : raw.rated(since: previous)
        // The rated one: pods whose counters were not read again this tick keep its rates.
        previous = snapshot
        if let record, let line = try? TopRecording.line(snapshot) { record.write(Data((line + "\n").utf8)) }
        return snapshot
    }

    func stop() {
        if case .live(let collector) = source { collector.stop() }
        try? record?.close()
    }
}
