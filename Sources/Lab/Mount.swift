import Foundation

/// A bind mount into a process's view of the file system: what a container's volume mount becomes.
struct Mount: Sendable, Hashable, Codable {
    /// The node's (or pod's) folder or file.
    var source: String
    /// Where the process sees it (the container's mountPath).
    var target: String
    var readOnly: Bool
}

extension Array where Element == Mount {
    /// The shell commands that make these mounts in a fresh mount namespace (`ip netns exec` makes one for
    /// each process it starts; mounts made there stay there).
    var shellPrefix: String {
        // Parents before children: a mount at /a must not hide one already made at /a/b.
        sorted { $0.target.count < $1.target.count }.map { mount in
            var line = "mount --bind \(Shell.quote(mount.source)) \(Shell.quote(mount.target))"
            if mount.readOnly { line += " && mount -o remount,bind,ro \(Shell.quote(mount.target))" }
            return line + " && "
        }.joined()
    }
}
