import Foundation
import KubeModel
import Planning

/// What `krctl drops` found: the samples (alike ones summed), the counters beside them, the drops no policy
/// made, and whether the NFLOG group could be read at all. Its JSON is `-o json`.
struct DropsReport: Encodable {
    struct Group: Encodable {
        var group: Int
        /// False when another process holds the group: only counters were read.
        var read: Bool
        var holder: NFLogHolderInfo?
        /// Samples received (before filtering), and lost (sequence gaps, buffer overruns).
        var samples: Int
        var lost: Int
        /// Whether samples carry conntrack's original destination.
        var conntrack: Bool
    }

    struct NFLogHolderInfo: Encodable {
        var pid: Int?
        var command: String?
        var portID: UInt32
    }

    /// One pod chain direction's refusals: in the window (the counters' growth) and in all (since the rule
    /// was created).
    struct Counter: Encodable {
        var pod: String
        var direction: String
        var family: IPAddress.Family
        var policies: [String]
        var window: UInt64?
        var total: UInt64?
        var bytes: UInt64?
    }

    /// Drops no policy made.
    struct NonPolicy: Encodable {
        /// Our pod chains' conntrack INVALID drops, in the window and in all.
        var invalidWindow: UInt64
        var invalidTotal: UInt64
        /// The conntrack table's (node-wide), in the window.
        var conntrackInsertFailed: UInt64?
        var conntrackDrop: UInt64?
        var conntrackEarlyDrop: UInt64?
    }

    var node: String
    var window: Double
    var group: Group
    var drops: [Drop]
    var counters: [Counter]
    var nonPolicy: NonPolicy
    var suggestions: [DropSuggestion]?

    static func aggregate(_ drops: [Drop]) -> [Drop] {
        var order: [String] = []
        var byFlow: [String: Drop] = [:]
        for drop in drops {
            let key = drop.flowKey
            if var seen = byFlow[key] {
                seen.count += drop.count
                seen.time = max(seen.time ?? .distantPast, drop.time ?? .distantPast)
                seen.kernelAgrees = seen.kernelAgrees == false || drop.kernelAgrees == false ? false : drop.kernelAgrees
                byFlow[key] = seen
            } else {
                order.append(key)
                byFlow[key] = drop
            }
        }
        return order.compactMap { byFlow[$0] }
    }

    static func row(_ drop: Drop) -> [String] {
        let time = drop.time.map { $0.formatted(.iso8601.time(includingFractionalSeconds: false)) } ?? "-"
        return [
            time, drop.direction ?? "-", drop.from, drop.to,
            [drop.protocol, drop.port.map(String.init)].compactMap { $0 }.joined(separator: "/"),
            drop.pod ?? "-", "\(drop.count)",
            drop.kernelAgrees.map { $0 ? "agrees" : "DRIFT" } ?? "-", drop.reason,
        ]
    }

    static let header = ["TIME", "DIRECTION", "FROM", "TO", "PROTO/PORT", "POD", "COUNT", "KERNEL", "REASON"]

    /// The report as text; `drops: false` leaves out the heading and the samples (printed as they came).
    func text(_ terminal: Terminal, drops withDrops: Bool = true) -> String {
        guard withDrops else { return counterText() }
        var out = "Drops on node \(node) over \(Self.seconds(window)): "
        if group.read {
            out +=
                "NFLOG group \(group.group), \(group.samples) sample\(group.samples == 1 ? "" : "s"), "
                + "\(group.lost) lost\n"
        } else {
            out +=
                "NFLOG group \(group.group) is held by "
                + (group.holder.map { h in h.pid.map { "pid \($0)" + (h.command.map { " (\($0))" } ?? "") } ?? "?" }
                    ?? "another process")
                + ": counters only\n"
        }
        if group.read {
            out += "\n"
            out +=
                drops.isEmpty
                ? "No packet was logged (samples are limited to 10 a minute per pod chain and direction).\n"
                : Table.render([Self.header] + drops.map(Self.row)) + "\n"
        }
        return out + counterText()
    }

    func counterText() -> String {
        var out = "\nRefused per pod (the REJECT rules' counters: every packet, not only the logged ones):\n"
        let rows = counters.map { c in
            [
                c.pod, c.direction, c.family.rawValue, c.window.map(String.init) ?? "-",
                c.total.map(String.init) ?? "-",
                c.policies.isEmpty ? "(default deny)" : c.policies.joined(separator: ","),
            ]
        }
        out +=
            rows.isEmpty
            ? "  no pod of this node is isolated\n"
            : Table.render([["POD", "DIRECTION", "FAMILY", "IN WINDOW", "TOTAL", "POLICIES"]] + rows) + "\n"
        out +=
            "\nNot policy: conntrack INVALID dropped by the pod chains: \(nonPolicy.invalidWindow) in the window "
            + "(\(nonPolicy.invalidTotal) in all)"
        if let failed = nonPolicy.conntrackInsertFailed, let drop = nonPolicy.conntrackDrop {
            out += "; conntrack table: \(failed) insert failures, \(drop) drops in the window"
        }
        out += "\n"
        for suggestion in suggestions ?? [] {
            out += "\nTo allow \(suggestion.flow) (\(suggestion.namespace)):\n" + suggestion.yaml
        }
        return out
    }

    static func seconds(_ value: Double) -> String {
        value.rounded() == value ? "\(Int(value))s" : String(format: "%.1fs", value)
    }
}
