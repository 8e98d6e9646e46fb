import KubeModel
import Planning

/// What the firewall and the service proxy need of the kernel's ipsets: the real one is `IPSetSession`
/// (libipset, all changes in one restore pass); tests use an in-memory fake with the kernel's swap and
/// destroy semantics.
public protocol IPSetBackend: Sendable {
    /// Every set whose name has one of the prefixes, with its members.
    func list(prefixes: [String]) throws -> [IPSetSpec]
    /// Applies the changes in order, in one pass; stops at the first that fails.
    func apply(_ changes: [IPSetChange]) throws
}

extension IPSetSession: IPSetBackend {
    public func apply(_ changes: [IPSetChange]) throws { try restore(IPSetDiff.restoreScript(changes)) }
}

/// Brings the node's ipsets to a plan: a changed set is refilled by swap, so that the live set is never
/// empty or half-filled while rules use it; an unchanged set is left alone. Only sets with our
/// prefixes are ever read, changed or destroyed. The decisions are `IPSetDiff`'s; this reads the
/// backend and applies them.
public struct IPSetSync: Sendable {
    public typealias Owner = IPSetOwner

    public static let ownedPrefixes = Owner.firewall.prefixes

    public struct Report: Sendable, Equatable {
        public var created: [String] = []
        public var swapped: [String] = []
        /// Sets whose few moved members were added and deleted in place (event syncs).
        public var updated: [String] = []
        public var unchanged = 0
        public var destroyed: [String] = []
        /// Our sets before the sync (as listed, or as last applied): what `removeStale` looks through.
        public var before: [String] = []
    }

    public let backend: any IPSetBackend
    public let owner: Owner

    public init(backend: any IPSetBackend, owner: Owner = .firewall) {
        self.backend = backend
        self.owner = owner
    }

    public init(session: IPSetSession, owner: Owner = .firewall) { self.init(backend: session, owner: owner) }

    /// All changes go to the kernel in one pass; a changed set is filled under a scratch name and
    /// swapped in, so rules never see it half-filled. With `previous` (the sets this process last
    /// applied) the kernel is not listed: the cheap path of event syncs; without it, the full check.
    public func apply(_ sets: [IPSetSpec], previous: [IPSetSpec]? = nil) throws -> Report {
        let known = try previous ?? backend.list(prefixes: owner.prefixes)
        let changes = IPSetDiff.changes(
            desired: sets, actual: known, temporaryPrefix: owner.temporaryPrefix, inPlace: previous != nil)
        try backend.apply(changes)
        var report = Report()
        report.before = known.map(\.name)
        for change in changes {
            switch change {
            case .create(let set): report.created.append(set.name)
            case .refill(let set, _, _, _): report.swapped.append(set.name)
            case .destroy(let name): report.destroyed.append(name)
            case .update(let name, _, _): report.updated.append(name)
            }
        }
        report.unchanged = sets.count - report.created.count - report.swapped.count - report.updated.count
        return report
    }

    /// Destroys our sets that are not in `keep`. A set still referenced by a rule cannot be destroyed:
    /// remove the rules (commit the table) first.
    /// `among`: the sets to look through (`Report.before` of the sync just done); nil lists the kernel's.
    public func removeStale(keeping keep: Set<String>, among: [String]? = nil) throws -> [String] {
        let known = try among ?? backend.list(prefixes: owner.prefixes).map(\.name)
        let changes = IPSetDiff.stale(keeping: keep, among: known)
        try backend.apply(changes)
        return changes.map(\.name)
    }
}
