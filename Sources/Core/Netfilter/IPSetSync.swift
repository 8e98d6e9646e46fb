/// Brings the node's ipsets to a plan: a changed set is refilled by swap, so that the live set is never
/// empty or half-filled while rules use it; an unchanged set is left alone. Only sets with our
/// prefixes are ever read, changed or destroyed.
public struct IPSetSync: Sendable {
    /// Whose sets these are: each controller reads, swaps and destroys only its own.
    public struct Owner: Sendable {
        public var prefixes: [String]
        /// Scratch sets for swaps (their names must fit the kernel's 31 bytes with a 16-character hash).
        public var temporaryPrefix: String
        public static let firewall = Owner(prefixes: ["KUBE-SRC-", "KUBE-DST-", "KR-TMP-"], temporaryPrefix: "KR-TMP-")
        public init(prefixes: [String], temporaryPrefix: String) { self.prefixes = prefixes; self.temporaryPrefix = temporaryPrefix }
    }

    public static let ownedPrefixes = Owner.firewall.prefixes

    public struct Report: Sendable, Equatable {
        public var created: [String] = []
        public var swapped: [String] = []
        public var unchanged = 0
        public var destroyed: [String] = []
        /// Our sets before the sync (as listed, or as last applied): what `removeStale` looks through.
        public var before: [String] = []
    }

    public let session: IPSetSession
    public let owner: Owner

    public init(session: IPSetSession, owner: Owner = .firewall) { self.session = session; self.owner = owner }

    /// The members as the kernel prints them, for comparison: a host prefix of hash:net is printed bare.
    static func normalized(_ set: IPSetSpec) -> Set<String> {
        Set(set.members.map { member in
            guard set.type == .hashNet else { return member }
            let host = member.contains(":") ? "/128" : "/32"
            guard let r = member.range(of: host), r.upperBound == member.endIndex || member[r.upperBound] == " " else { return member }
            return member.replacingCharacters(in: r, with: "")
        })
    }

    /// All changes go to the kernel in one restore pass; a changed set is filled under a scratch name
    /// and swapped in, so rules never see it half-filled. With `previous` (the sets this process last
    /// applied) the kernel is not listed: the cheap path of event syncs; without it, the full check.
    public func apply(_ sets: [IPSetSpec], previous: [IPSetSpec]? = nil) throws -> Report {
        var report = Report()
        let known = try previous ?? session.list(prefixes: owner.prefixes)
        let live = Dictionary(known.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        report.before = known.map(\.name)
        var script = ""
        for set in sets {
            let familyWord = set.family == .ipv4 ? "inet" : "inet6"
            if let current = live[set.name] {
                if current.type == set.type && Self.normalized(current) == Self.normalized(set) {
                    report.unchanged += 1
                    continue
                }
                let temporary = owner.temporaryPrefix + FirewallNames.hash(set.name)
                if live[temporary] != nil { script += "destroy \(temporary)\n" }
                script += "create \(temporary) \(set.type.rawValue) family \(familyWord)\n"
                for member in set.members { script += "add \(temporary) \(member) -exist\n" }
                // A set of another type cannot be swapped with: it is replaced (only if no rule uses it).
                if current.type != set.type {
                    script += "destroy \(set.name)\nrename \(temporary) \(set.name)\n"
                } else {
                    script += "swap \(temporary) \(set.name)\ndestroy \(temporary)\n"
                }
                report.swapped.append(set.name)
            } else {
                script += "create \(set.name) \(set.type.rawValue) family \(familyWord) -exist\n"
                for member in set.members { script += "add \(set.name) \(member) -exist\n" }
                report.created.append(set.name)
            }
        }
        try session.restore(script)
        return report
    }

    /// Destroys our sets that are not in `keep`. A set still referenced by a rule cannot be destroyed:
    /// remove the rules (commit the table) first.
    /// `among`: the sets to look through (`Report.before` of the sync just done); nil lists the kernel's.
    public func removeStale(keeping keep: Set<String>, among: [String]? = nil) throws -> [String] {
        let known = try among ?? session.list(prefixes: owner.prefixes).map(\.name)
        let destroyed = known.filter { !keep.contains($0) }
        try session.restore(destroyed.map { "destroy \($0)\n" }.joined())
        return destroyed
    }
}
