import Foundation
import KubeModel
import Planning

/// Kernel settings under /proc/sys, by their dotted names (`net.ipv4.vs.conntrack`).
public enum Sysctl {
    /// Where the `net.` settings are by default. An unprivileged pod's /proc/sys is read-only: there the
    /// host's /proc/sys/net is mounted elsewhere and given as `procSysNet` (`--proc-sys-net-path`).
    public static let defaultProcSysNet = "/proc/sys/net"

    /// The file of `name`: `net.` settings under `procSysNet`, the others under /proc/sys.
    public static func path(_ name: String, procSysNet: String = defaultProcSysNet) -> String {
        let relative = name.replacingOccurrences(of: ".", with: "/")
        if name.hasPrefix("net.") { return procSysNet + "/" + relative.dropFirst("net/".count) }
        return "/proc/sys/" + relative
    }

    public static func read(_ name: String, procSysNet: String = defaultProcSysNet) -> String? {
        (try? String(contentsOfFile: path(name, procSysNet: procSysNet), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes `value` unless it is already set; throws with the setting's name and file when the kernel refuses.
    public static func ensure(_ name: String, _ value: String, procSysNet: String = defaultProcSysNet) throws {
        guard read(name, procSysNet: procSysNet) != value else { return }
        let file = path(name, procSysNet: procSysNet)
        guard let handle = FileHandle(forWritingAtPath: file) else {
            throw SysctlFailure(description: "cannot set \(name)=\(value): \(file) is missing or not writable")
        }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Data(value.utf8))
        } catch {
            throw SysctlFailure(description: "cannot set \(name)=\(value) (\(file)): \(error)")
        }
    }
}

public struct SysctlFailure: Error, CustomStringConvertible {
    public var description: String
}
