import Foundation
import KubeModel
import Planning

/// The process that holds an NFLOG group: from `/proc/net/netfilter/nfnetlink_log` (group → netlink port id),
/// `/proc/net/netlink` (port id → socket inode) and `/proc/PID/fd` (inode → process).
public struct NFLogHolder: Sendable, Equatable, Codable, CustomStringConvertible {
    public var group: Int
    /// The netlink port id of the holder's socket.
    public var portID: UInt32
    /// The process holding the socket, when it could be found.
    public var pid: Int?
    /// Its command name (`/proc/PID/comm`).
    public var command: String?

    public var description: String {
        guard let pid else { return "netlink port \(portID) (no process found)" }
        return "pid \(pid)" + (command.map { " (\($0))" } ?? "")
    }

    /// Looks the group's holder up in the calling thread's network namespace (`/proc/thread-self/net`: a
    /// thread may have entered another namespace than its process's); nil when nobody holds it.
    public static func find(
        group: Int, net: String = "/proc/thread-self/net", proc: String = "/proc"
    ) -> NFLogHolder? {
        guard let table = try? String(contentsOfFile: net + "/netfilter/nfnetlink_log", encoding: .utf8),
            let portID = portID(of: group, in: table)
        else { return nil }
        var holder = NFLogHolder(group: group, portID: portID, pid: nil, command: nil)
        if let netlink = try? String(contentsOfFile: net + "/netlink", encoding: .utf8),
            let inode = inode(of: portID, in: netlink)
        {
            holder.pid = pid(owning: inode, proc: proc)
        }
        // A socket bound automatically gets its process's pid as port id.
        if holder.pid == nil, FileManager.default.fileExists(atPath: "\(proc)/\(portID)") {
            holder.pid = Int(portID)
        }
        if let pid = holder.pid {
            holder.command = (try? String(contentsOfFile: "\(proc)/\(pid)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return holder
    }

    /// The port id of the group's instance: lines of "group portid qlen copymode range timeout refcount".
    static func portID(of group: Int, in table: String) -> UInt32? {
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, Int(fields[0]) == group { return UInt32(fields[1]) }
        }
        return nil
    }

    /// The inode of the NETLINK_NETFILTER (12) socket bound to `portID`: "sk Eth Pid Groups Rmem Wmem Dump
    /// Locks Drops Inode".
    static func inode(of portID: UInt32, in netlink: String) -> String? {
        for line in netlink.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            if fields.count >= 10, fields[1] == "12", UInt32(fields[2]) == portID { return String(fields[9]) }
        }
        return nil
    }

    static func pid(owning inode: String, proc: String) -> Int? {
        let target = "socket:[\(inode)]"
        let manager = FileManager.default
        guard let entries = try? manager.contentsOfDirectory(atPath: proc) else { return nil }
        for entry in entries {
            guard let pid = Int(entry), let fds = try? manager.contentsOfDirectory(atPath: "\(proc)/\(entry)/fd")
            else { continue }
            for fd in fds where (try? manager.destinationOfSymbolicLink(atPath: "\(proc)/\(entry)/fd/\(fd)")) == target
            {
                return pid
            }
        }
        return nil
    }
}
