import Foundation
import KubeModel
import Planning

/// Kernel settings under /proc/sys, by their dotted names (`net.ipv4.vs.conntrack`).
public enum Sysctl {
    static func path(_ name: String) -> String { "/proc/sys/" + name.replacingOccurrences(of: ".", with: "/") }

    public static func read(_ name: String) -> String? {
        (try? String(contentsOfFile: path(name), encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes `value` unless it is already set; throws with the setting's name when the kernel refuses.
    public static func ensure(_ name: String, _ value: String) throws {
        guard read(name) != value else { return }
        guard let handle = FileHandle(forWritingAtPath: path(name)) else {
            throw SysctlFailure(description: "cannot set \(name)=\(value): \(path(name)) is missing or not writable")
        }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Data(value.utf8))
        } catch {
            throw SysctlFailure(description: "cannot set \(name)=\(value): \(error)")
        }
    }
}

public struct SysctlFailure: Error, CustomStringConvertible {
    public var description: String
}
