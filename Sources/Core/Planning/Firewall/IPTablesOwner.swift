import KubeModel

/// Who a chain belongs to: two controllers share the filter table, each syncs only its own chains.
public struct IPTablesOwner: Sendable {
    public var table: String
    public var prefixes: [String]
    /// The built-in chains the hooks go into.
    public var builtins: [String]
    /// The firewall's hooks must come first; others only need to be present (they come after).
    public var hooksFirst: Bool

    public init(table: String, prefixes: [String], builtins: [String], hooksFirst: Bool) {
        self.table = table
        self.prefixes = prefixes
        self.builtins = builtins
        self.hooksFirst = hooksFirst
    }

    public func owns(_ chain: String) -> Bool { prefixes.contains { chain.hasPrefix($0) } }

    /// Whether `rule` is one of our hooks (a jump into a chain of ours).
    public func isHook(_ rule: Rule) -> Bool { if case .jump(let t) = rule.target { owns(t) } else { false } }

    public static let firewall = IPTablesOwner(
        table: "filter",
        prefixes: ["KUBE-ROUTER-INPUT", "KUBE-ROUTER-FORWARD", "KUBE-ROUTER-OUTPUT", "KUBE-POD-FW-", "KUBE-NWPLCY-"],
        builtins: ["INPUT", "FORWARD", "OUTPUT"], hooksFirst: true)
}
