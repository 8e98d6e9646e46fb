import Foundation
import KubeModel

/// `--record FILE` and `--replay FILE`: snapshots as JSON lines, one per tick, in the `-o jsonl` format.
public enum TopRecording {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(Self.format(date))
        }
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = Self.parse(text) else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "not a date: \(text)"))
            }
            return date
        }
        return decoder
    }

    static func format(_ date: Date) -> String {
        Timestamp.string(date, fractionalSeconds: true)
    }

    static func parse(_ text: String) -> Date? {
        Timestamp.date(text)
    }

    /// One line of a recording.
    public static func line(_ snapshot: TopSnapshot) throws -> String {
        String(decoding: try encoder(pretty: false).encode(snapshot), as: UTF8.self)
    }

    /// A recording's snapshots; a line that is not a TopSnapshot of this version is an error naming it.
    public static func read(_ text: String, file: String) throws -> [TopSnapshot] {
        var snapshots: [TopSnapshot] = []
        let decoder = decoder()
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let snapshot: TopSnapshot
            do {
                snapshot = try decoder.decode(TopSnapshot.self, from: Data(line.utf8))
            } catch {
                throw Failure(description: "\(file):\(number + 1) is not a krctl top snapshot: \(error)")
            }
            guard snapshot.apiVersion == TopSnapshot.apiVersion, snapshot.kind == TopSnapshot.kind else {
                throw Failure(
                    description:
                        "\(file):\(number + 1) is \(snapshot.apiVersion) \(snapshot.kind), "
                        + "not \(TopSnapshot.apiVersion) \(TopSnapshot.kind): record it again with this krctl"
                )
            }
            snapshots.append(snapshot)
        }
        guard !snapshots.isEmpty else { throw Failure(description: "\(file) holds no snapshot") }
        return snapshots
    }
}
