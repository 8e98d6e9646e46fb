import KubeModel

/// The plan in the text formats of `iptables-restore` and `ipset restore`: for reading, debugging,
/// and as the reference the benchmark compares libiptc and libipset against.
extension FirewallPlan {
    /// `*filter` ... `COMMIT`, our chains declared (and so flushed) and filled; hooks inserted first.
    public func iptablesRestore() -> String {
        var lines = ["*filter"]
        for chain in chains { lines.append(":\(chain.name) - [0:0]") }
        for hook in hooks { lines.append("-I \(hook.chain) 1 " + Self.arguments(hook)) }
        for chain in chains {
            for rule in chain.rules { lines.append("-A \(chain.name) " + Self.arguments(rule)) }
        }
        lines.append("COMMIT")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Every set created (if missing), flushed and filled: `ipset restore -exist`.
    public func ipsetRestore() -> String {
        var lines: [String] = []
        let familyWord = family == .ipv4 ? "inet" : "inet6"
        for set in sets {
            lines.append("create \(set.name) \(set.type.rawValue) family \(familyWord) -exist")
            lines.append("flush \(set.name)")
            for member in set.members { lines.append("add \(set.name) \(member.restoreText)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One rule as iptables-save writes it (without `-A CHAIN`).
    static func arguments(_ rule: Rule) -> String {
        var a: [String] = []
        if let s = rule.source { a += ["-s", s.description] }
        if let d = rule.destination { a += ["-d", d.description] }
        if let p = rule.proto { a += ["-p", p.rawValue.lowercased()] }
        for set in rule.sets {
            a +=
                ["-m", "set"] + (set.negated ? ["!"] : []) + [
                    "--match-set", set.name, set.flags.joined(separator: ","),
                ]
        }
        if let ports = rule.destinationPorts, let p = rule.proto {
            a += [
                "-m", p.rawValue.lowercased(), "--dport",
                ports.lowerBound == ports.upperBound
                    ? "\(ports.lowerBound)" : "\(ports.lowerBound):\(ports.upperBound)",
            ]
        }
        if !rule.conntrackStates.isEmpty {
            a += ["-m", "conntrack", "--ctstate", rule.conntrackStates.joined(separator: ",")]
        }
        if rule.sourceIsLocal { a += ["-m", "addrtype", "--src-type", "LOCAL"] }
        if let m = rule.mark {
            a +=
                ["-m", "mark"] + (m.negated ? ["!"] : []) + [
                    "--mark", "0x\(String(m.value, radix: 16))/0x\(String(m.mask, radix: 16))",
                ]
        }
        if rule.ipvsMasquerade { a += ["-m", "ipvs", "--ipvs", "--vdir", "ORIGINAL", "--vmethod", "MASQ"] }
        if let limit = rule.limitPerMinute { a += ["-m", "limit", "--limit", "\(limit)/min", "--limit-burst", "10"] }
        a += ["-m", "comment", "--comment", quote(rule.comment)]
        switch rule.target {
        case .jump(let chain): a += ["-j", chain]
        case .accept: a += ["-j", "ACCEPT"]
        case .drop: a += ["-j", "DROP"]
        case .return: a += ["-j", "RETURN"]
        case .reject: a += ["-j", "REJECT"]
        case .nflog(let group, let prefix):
            a += ["-j", "NFLOG", "--nflog-prefix", quote(prefix), "--nflog-group", "\(group)"]
        case .mark(let value, let mask):
            a += ["-j", "MARK", "--set-xmark", "0x\(String(value, radix: 16))/0x\(String(mask, radix: 16))"]
        case .masquerade: a += ["-j", "MASQUERADE"]
        }
        return a.joined(separator: " ")
    }

    private static func quote(_ text: String) -> String {
        "\"" + String(text.prefix(255)).replacingOccurrences(of: "\"", with: "'") + "\""
    }
}
