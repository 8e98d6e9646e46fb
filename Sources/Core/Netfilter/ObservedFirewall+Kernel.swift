extension ObservedFirewall {
    /// Reads our chains, hooks and sets from the kernel (the current network namespace): the one reader
    /// behind the agent's sync and krctl's kernel verdicts. Needs CAP_NET_ADMIN (root).
    public static func read() throws -> ObservedFirewall {
        let table = try IPTablesTable("filter")
        let actual = IPTablesSync.read(table)
        var positions: [Int] = []
        for hook in actual.hooks {
            positions.append(table.rules(hook.chain).firstIndex(of: hook) ?? 0)
        }
        // The sync's scratch sets (KR-TMP-) live only during a swap: they are not part of the firewall.
        let sets = try IPSetSession().list(prefixes: IPSetSync.ownedPrefixes.filter { $0 != "KR-TMP-" })
        return ObservedFirewall(chains: actual.chains, hooks: actual.hooks, hookPositions: positions, sets: sets)
    }
}
