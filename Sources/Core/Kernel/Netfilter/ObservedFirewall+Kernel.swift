import KubeModel
import Planning

extension ObservedFirewall {
    /// Reads our chains, hooks and sets of one family from the kernel (the current network namespace): the one reader
    /// behind the agent's sync and krctl's kernel verdicts. Needs CAP_NET_ADMIN (root).
    public static func read(family: IPAddress.Family = .ipv4) throws -> ObservedFirewall {
        let table = try IPTablesTable("filter", family: family)
        let actual = IPTablesSync.read(table)
        var positions: [Int] = []
        for hook in actual.hooks {
            positions.append(table.rules(hook.chain).firstIndex(of: hook) ?? 0)
        }
        // The sync's scratch sets (KR-TMP-) live only during a swap: they are not part of the firewall.
        let sets = try IPSetSession().list(prefixes: IPSetSync.ownedPrefixes.filter { $0 != "KR-TMP-" }).filter {
            $0.family == family
        }
        return ObservedFirewall(chains: actual.chains, hooks: actual.hooks, hookPositions: positions, sets: sets)
    }
}
