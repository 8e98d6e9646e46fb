import Foundation
import Kernel

/// The lab's way to run the system's tools (ip, kubectl, openssl, CNI plugins): to completion, output kept.
enum Shell {
    @discardableResult
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil,
        check: Bool = true
    ) throws -> Subprocess.Result {
        let result = try Subprocess.run(executable, arguments, environment: environment, input: input)
        if check && result.status != 0 {
            let command = ([executable] + arguments).joined(separator: " ")
            let detail = (result.stderr.isEmpty ? result.stdout : result.stderr)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            throw LabError("\(command) failed (exit \(result.status)): \(detail)")
        }
        return result
    }

    static func ip(_ arguments: String..., check: Bool = true) throws {
        try run("/usr/sbin/ip", arguments, check: check)
    }

    /// `ip` inside a network namespace.
    static func ip(in netns: String, _ arguments: String..., check: Bool = true) throws {
        try run("/usr/sbin/ip", ["-n", netns] + arguments, check: check)
    }

    static func netnsExists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: "/var/run/netns/\(name)")
    }

    /// The first of `candidates` that is an executable file.
    static func find(_ candidates: [String]) -> String? {
        candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Quotes a word for /bin/sh.
    static func quote(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
