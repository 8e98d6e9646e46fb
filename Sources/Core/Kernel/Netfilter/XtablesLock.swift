import Foundation
import KubeModel
import Planning

/// Serialises whole-table transactions (read, change, commit). A commit replaces the whole table, so
/// two writers that overlap lose one's changes: within the agent the firewall and the service proxy
/// share the filter table, and on the node iptables, kubelet and others write too. Within the
/// process a lock; across processes the lock file iptables itself takes (`/run/xtables.lock`, or
/// `$XTABLES_LOCKFILE`).
public enum XtablesLock {
    private static let processLock = NSLock()

    public static func withLock<T>(_ body: () throws -> T) throws -> T {
        processLock.lock()
        defer { processLock.unlock() }
        let path = ProcessInfo.processInfo.environment["XTABLES_LOCKFILE"] ?? "/run/xtables.lock"
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        // No lock file possible (read-only /run): still serialised within the process.
        guard fd >= 0 else { return try body() }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { break }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}
