import Foundation
import KubeModel
import Logging

/// The agent's log, on swift-log: levels from `-v`, structured metadata, and the line format from
/// `--log-format` (klog-like text for people, one JSON object per line for log collectors).
struct Log: Sendable {
    let logger: Logger

    init(label: String = "kube-router") { logger = Logger(label: label) }

    func info(_ message: String, _ metadata: Logger.Metadata? = nil) { logger.info("\(message)", metadata: metadata) }
    func warn(_ message: String, _ metadata: Logger.Metadata? = nil) {
        logger.warning("\(message)", metadata: metadata)
    }
    func error(_ message: String, _ metadata: Logger.Metadata? = nil) { logger.error("\(message)", metadata: metadata) }
    func debug(_ message: String, _ metadata: Logger.Metadata? = nil) { logger.debug("\(message)", metadata: metadata) }

    enum Format: String, CaseIterable { case text, json }

    /// Sets the process's log handler once, at start: `-v` 0-1 logs info and above, 2-3 debug, 4 and more trace.
    static func bootstrap(format: Format, verbosity: Int) {
        let level: Logger.Level = verbosity >= 4 ? .trace : verbosity >= 2 ? .debug : .info
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == .json ? JSONLogHandler(label: label) : KlogHandler(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// A handler that keeps its metadata in a stored property: swift-log's subscript, once.
protocol StoredMetadataHandler: LogHandler {
    var metadata: Logger.Metadata { get set }
}

extension StoredMetadataHandler {
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
}

/// `I18:09:07.958 message key=value ...` on stderr, as klog writes (the level's initial, the time).
struct KlogHandler: StoredMetadataHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    /// `HH:mm:ss.SSS` in local time, as klog writes it. Not a `DateFormatter`: that goes through ICU, whose tables
    /// then stay resident in the agent.
    static func clock(_ time: Date) -> String {
        var seconds = time_t(time.timeIntervalSince1970.rounded(.down))
        let milliseconds = Int((time.timeIntervalSince1970 - Double(seconds)) * 1000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let ms = milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)"
    }

    func log(event: LogEvent) {
        let line = Self.line(
            level: event.level, message: "\(event.message)", metadata: metadata.merging(event.metadata ?? [:]) { $1 },
            at: Date())
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// One line of the log. Messages carry text from peers and the cluster (a NOTIFICATION's shutdown
    /// communication, object names): control characters are shown escaped, so none reaches the terminal of
    /// whoever reads the log, and a newline in such text cannot forge a line of its own.
    static func line(level: Logger.Level, message: String, metadata: Logger.Metadata, at time: Date) -> String {
        let initial: String
        switch level {
        case .trace, .debug: initial = "D"
        case .info, .notice: initial = "I"
        case .warning: initial = "W"
        case .error, .critical: initial = "E"
        }
        var line = "\(initial)\(clock(time)) \(message)"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
        return Terminal.escapingControlCharacters(line).replacingOccurrences(of: "\n", with: "\\n")
    }
}

/// One JSON object per line on stderr: `{"level", "msg", "source", "ts", ...metadata}`.
struct JSONLogHandler: StoredMetadataHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let s): s
        case .stringConvertible(let c): c.description
        case .array(let a): a.map(json)
        case .dictionary(let d): d.mapValues(json)
        }
    }

    func log(event: LogEvent) {
        var object: [String: Any] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = Self.json(value)
        }
        object["ts"] = Timestamp.string(Date(), fractionalSeconds: true)
        object["level"] = event.level.rawValue
        object["msg"] = event.message.description
        object["source"] = label
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else {
            return
        }
        FileHandle.standardError.write(data + Data("\n".utf8))
    }
}
