import Foundation
import KubeModel
import Planning

#if canImport(Glibc)
import Glibc
#endif

/// One agent per node: an exclusive `flock` on `<state-dir>/kube-router.lock`, held for the life of the
/// process (the kernel releases it when the process ends, however it ends). The file holds the pid of
/// the holder, so that a second agent can say which process it met.
public final class StateDirectoryLock: Sendable {
    public static let fileName = "kube-router.lock"

    public struct Held: Error, CustomStringConvertible {
        public var path: String
        public var pid: Int32?
        public var description: String {
            let who = pid.map { "kube-router (pid \($0))" } ?? "another kube-router"
            return "\(who) already runs with this state directory (\(path) is locked): stop it first, "
                + "or give this one another --state-dir"
        }
    }

    public let path: String
    private let fd: Int32

    /// Takes the lock, or throws `Held` naming the holder.
    public init(stateDir: String) throws {
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        path = stateDir + "/" + Self.fileName
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw AgentStartFailure("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let held = errno == EWOULDBLOCK
            let message = String(cString: strerror(errno))
            let text = String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
            close(fd)
            if held { throw Held(path: path, pid: Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))) }
            throw AgentStartFailure("cannot lock \(path): \(message)")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    deinit { close(fd) }
}

/// Something the agent needs before it can start is missing.
public struct AgentStartFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
