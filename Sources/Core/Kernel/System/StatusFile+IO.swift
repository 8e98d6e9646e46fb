import Foundation
import KubeModel
import Planning

/// Reading and writing status files (atomically: a temporary file renamed into place).
extension StatusFile {
    public static func read(stateDir: String) -> Self? {
        guard let data = FileManager.default.contents(atPath: stateDir + "/" + fileName) else { return nil }
        return try? JSONDecoder().decode(Self.self, from: data)
    }

    public func write(stateDir: String) throws {
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        var current = self
        current.version = Self.currentVersion
        current.pid = getpid()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        // `.atomic`: written to a temporary file in the same directory, then renamed over the old one.
        try encoder.encode(current).write(to: URL(fileURLWithPath: stateDir + "/" + Self.fileName), options: .atomic)
    }
}
