import KubeModel

/// One difference between the firewall the policies mean and the one the kernel holds, worded as its
/// cause: a missing chain, a pod IP missing from a set, a stale rule.
public struct DriftFinding: Sendable, Equatable, Encodable, CustomStringConvertible {
    public enum Kind: String, Sendable, Encodable {
        case missingHook, missingChain, staleChain, missingRule, staleRule, rulesOutOfOrder
        case missingSet, staleSet, wrongSetType, missingMember, staleMember
    }

    public var kind: Kind
    public var chain: String?
    public var set: String?
    /// The rule (iptables-save syntax) or the set member concerned.
    public var item: String?
    /// What the chain, rule or set stands for (its comment): a pod, or `namespace/policy` and rule.
    public var about: String

    public var description: String {
        let what = about.isEmpty ? "" : " (\(about))"
        switch kind {
        case .missingHook: return "\(chain ?? "?") does not jump to \(item ?? "?") first: traffic bypasses the firewall"
        case .missingChain: return "chain \(chain ?? "?")\(what) is missing"
        case .staleChain: return "chain \(chain ?? "?") is in the kernel but no longer planned (stale)"
        case .missingRule: return "rule missing from \(chain ?? "?")\(what): \(item ?? "")"
        case .staleRule: return "stale rule in \(chain ?? "?")\(what): \(item ?? "")"
        case .rulesOutOfOrder: return "the rules of \(chain ?? "?")\(what) are out of order"
        case .missingSet: return "set \(set ?? "?")\(what) is missing"
        case .staleSet: return "set \(set ?? "?") is in the kernel but no longer planned (stale)"
        case .wrongSetType: return "set \(set ?? "?")\(what) has the wrong type: \(item ?? "")"
        case .missingMember: return "\(item ?? "?") is missing from set \(set ?? "?")\(what)"
        case .staleMember: return "\(item ?? "?") is in set \(set ?? "?")\(what) but should not be (stale)"
        }
    }
}
