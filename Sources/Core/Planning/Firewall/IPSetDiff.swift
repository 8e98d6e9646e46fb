import KubeModel

/// Whose sets these are: each controller reads, swaps and destroys only its own.
public struct IPSetOwner: Sendable {
    public var prefixes: [String]
    /// Scratch sets for swaps (their names must fit the kernel's 31 bytes with a 16-character hash).
    public var temporaryPrefix: String
    public static let firewall = IPSetOwner(
        prefixes: ["KUBE-SRC-", "KUBE-DST-", "KR-TMP-"], temporaryPrefix: "KR-TMP-")
    public init(prefixes: [String], temporaryPrefix: String) {
        self.prefixes = prefixes
        self.temporaryPrefix = temporaryPrefix
    }
}

/// One change to the node's ipsets, as a value: what the diff decides and the executor applies.
public enum IPSetChange: Sendable, Equatable {
    /// A new set, created and filled.
    case create(IPSetSpec)
    /// A set whose members changed: filled under `temporary`, then swapped in, so that rules never see it
    /// empty or half-filled. A set of another type cannot be swapped with: it is destroyed and the new one
    /// renamed into its place (the kernel refuses while a rule uses it). `temporaryExists`: a scratch set
    /// left by an interrupted sync, destroyed first.
    case refill(IPSetSpec, temporary: String, sameType: Bool, temporaryExists: Bool)
    /// A set of ours no plan uses.
    case destroy(String)
    /// A few members moved in a set this process filled (an event sync): added and deleted in place, each
    /// atomically, instead of refilling the whole set.
    case update(String, add: [IPSetMember], remove: [IPSetMember])

    public var name: String {
        switch self {
        case .create(let s), .refill(let s, _, _, _): s.name
        case .destroy(let name), .update(let name, _, _): name
        }
    }
}

/// The difference between the planned ipsets and the node's (or what this process last applied), as
/// changes: pure, so that the sync's decisions are tested without a kernel.
public enum IPSetDiff {
    /// True when `actual` holds exactly the members of `desired`. Members are values, so a listing that
    /// differs only in notation (a bare host prefix, another IPv6 spelling) is the same set; a set with a
    /// member the reader could not parse never is, so it is refilled rather than taken for right.
    public static func sameMembers(_ desired: IPSetSpec, _ actual: IPSetSpec) -> Bool {
        !actual.members.contains(where: \.isUnparsed)
            && (desired.members == actual.members || Set(desired.members) == Set(actual.members))
    }

    /// The changes that bring `actual` to `desired`; an unchanged set costs nothing. `inPlace`: `actual` is what
    /// this process last applied (an event sync), so a set where fewer members move than it holds is updated in
    /// place.
    public static func changes(
        desired: [IPSetSpec], actual: [IPSetSpec], temporaryPrefix: String, inPlace: Bool = false
    ) -> [IPSetChange] {
        var live: [String: IPSetSpec] = [:]
        for set in actual where live[set.name] == nil { live[set.name] = set }
        var changes: [IPSetChange] = []
        for set in desired {
            guard let current = live[set.name] else {
                changes.append(.create(set))
                continue
            }
            if current.type == set.type && sameMembers(set, current) { continue }
            if inPlace, current.type == set.type, !current.members.contains(where: \.isUnparsed) {
                let before = Set(current.members)
                let after = Set(set.members)
                let add = set.members.filter { !before.contains($0) }
                let remove = current.members.filter { !after.contains($0) }
                if add.count + remove.count <= max(8, set.members.count / 2) {
                    changes.append(.update(set.name, add: add, remove: remove))
                    continue
                }
            }
            let temporary = temporaryPrefix + FirewallNames.hash(set.name)
            changes.append(
                .refill(
                    set, temporary: temporary, sameType: current.type == set.type,
                    temporaryExists: live[temporary] != nil))
        }
        return changes
    }

    /// Our sets (`among`) that no plan keeps.
    public static func stale(keeping keep: Set<String>, among: [String]) -> [IPSetChange] {
        among.filter { !keep.contains($0) }.map { .destroy($0) }
    }

    /// The changes in `ipset restore` syntax, one pass for all of them.
    public static func restoreScript(_ changes: [IPSetChange]) -> String {
        var script = ""
        func fill(_ name: String, _ set: IPSetSpec) {
            script += "create \(name) \(set.type.rawValue) family \(set.family == .ipv4 ? "inet" : "inet6") -exist\n"
            for member in set.members { script += "add \(name) \(member.restoreText) -exist\n" }
        }
        for change in changes {
            switch change {
            case .create(let set):
                fill(set.name, set)
            case .refill(let set, let temporary, let sameType, let temporaryExists):
                if temporaryExists { script += "destroy \(temporary)\n" }
                fill(temporary, set)
                script +=
                    sameType
                    ? "swap \(temporary) \(set.name)\ndestroy \(temporary)\n"
                    : "destroy \(set.name)\nrename \(temporary) \(set.name)\n"
            case .destroy(let name):
                script += "destroy \(name)\n"
            case .update(let name, let add, let remove):
                for member in remove { script += "del \(name) \(member.restoreText) -exist\n" }
                for member in add { script += "add \(name) \(member.restoreText) -exist\n" }
            }
        }
        return script
    }
}
