import Foundation
import Kernel
import KubeModel
import Planning

/// In-memory ipsets with the kernel's semantics where a sync depends on them: `swap` needs two existing
/// sets of one type, `rename` a free name, `destroy` an existing set that no rule references (`referenced`,
/// as a fake of the rules that use sets). A pass stops at the first failing change, as `ipset restore` does.
public final class FakeIPSets: IPSetBackend, @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    private let lock = NSLock()
    private var sets: [String: IPSetSpec] = [:]
    private var passes = 0
    /// Names of sets a rule uses: the kernel refuses to destroy them (EBUSY).
    public var referenced: Set<String> = []
    /// Called before each pass (outside the lock): a test holds a sync here, or makes it fail by throwing.
    public var beforeApply: (@Sendable () throws -> Void)?

    public init() {}

    /// Passes (restores) that changed something.
    public var passCount: Int { lock.withLock { passes } }
    public var all: [String: IPSetSpec] { lock.withLock { sets } }

    /// A change made behind the agent's back.
    public func set(_ spec: IPSetSpec) { lock.withLock { sets[spec.name] = spec } }
    /// A set behind the agent's back as the kernel lists it: members in `ipset save` syntax, read as the
    /// real backend reads them (`IPSetListing`), so notation and unreadable members are what a sync meets.
    public func set(
        listed name: String, type: IPSetSpec.SetType, family: IPAddress.Family = .ipv4, members: [String]
    ) {
        let members = members.map { IPSetListing.member($0, type: type, family: family) }
        set(IPSetSpec(name: name, type: type, members: members, comment: "", family: family))
    }
    public func remove(_ name: String) { _ = lock.withLock { sets.removeValue(forKey: name) } }

    public private(set) var lists = 0

    public func list(prefixes: [String]) throws -> [IPSetSpec] {
        lock.withLock {
            lists += 1
            return sets.values.filter { s in prefixes.contains { s.name.hasPrefix($0) } }.sorted { $0.name < $1.name }
        }
    }

    public func apply(_ changes: [IPSetChange]) throws {
        try beforeApply?()
        guard !changes.isEmpty else { return }
        try lock.withLock {
            passes += 1
            for change in changes {
                switch change {
                case .create(let set):
                    if let existing = sets[set.name], existing.type != set.type {
                        throw Failure(description: "create \(set.name): set exists with another type")
                    }
                    sets[set.name] = set
                case .refill(let set, let temporary, let sameType, let temporaryExists):
                    if temporaryExists { try destroy(temporary) }
                    guard sets[temporary] == nil else { throw Failure(description: "create \(temporary): set exists") }
                    var scratch = set
                    scratch.name = temporary
                    sets[temporary] = scratch
                    guard let current = sets[set.name] else {
                        throw Failure(description: "swap \(set.name): no such set")
                    }
                    if sameType {
                        guard current.type == set.type else {
                            throw Failure(description: "swap \(set.name): types differ")
                        }
                        sets[set.name] = set
                        sets[temporary] = nil
                    } else {
                        try destroy(set.name)
                        sets[temporary] = nil
                        sets[set.name] = set
                    }
                case .destroy(let name):
                    try destroy(name)
                case .update(let name, let add, let remove):
                    guard var set = sets[name] else { throw Failure(description: "add \(name): no such set") }
                    set.members.removeAll { remove.contains($0) }
                    set.members += add.filter { !set.members.contains($0) }
                    sets[name] = set
                }
            }
        }
    }

    private func destroy(_ name: String) throws {
        guard sets[name] != nil else { throw Failure(description: "destroy \(name): no such set") }
        guard !referenced.contains(name) else { throw Failure(description: "destroy \(name): set is in use by a rule") }
        sets[name] = nil
    }
}
