import ArgumentParser
import Foundation

/// `-o` of `krctl drops`: a table, one JSON document at the end, or one JSON object per drop as it arrives.
enum DropsFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, jsonl

    /// JSON with dates as RFC 3339 with milliseconds, keys sorted; one line when `pretty` is false.
    static func encode(_ value: some Encodable, pretty: Bool) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)))
        }
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
