import CIPTables
import Foundation
import KubeModel
import Planning

/// What a sync needs of one table of one family, read whole and changed in memory until `commit`
/// replaces it atomically: the real one is `IPTablesTable` (libiptc); tests use an in-memory fake that,
/// like the kernel, refuses to delete a chain that is referenced or not empty.
public protocol IPTablesBackend: AnyObject {
    func chains() -> [String]
    func rules(_ chain: String) -> [Rule]
    func createChain(_ chain: String) throws
    func flush(_ chain: String) throws
    func deleteChain(_ chain: String) throws
    func append(_ rule: Rule) throws
    func insert(_ rule: Rule, at position: Int) throws
    func delete(chain: String, at position: Int) throws
    func commit() throws
    /// The chain's rules with their packet and byte counters (the snapshot the transaction started from).
    func counted(_ chain: String) -> [(rule: Rule, packets: UInt64, bytes: UInt64)]
    /// Sets the counters of the rule at `position` (0 = first), for the commit.
    func setCounters(chain: String, position: Int, packets: UInt64, bytes: UInt64) throws
}

extension IPTablesBackend {
    /// A backend without counters (the tests' fakes) has none to keep.
    public func counted(_ chain: String) -> [(rule: Rule, packets: UInt64, bytes: UInt64)] { [] }
    public func setCounters(chain: String, position: Int, packets: UInt64, bytes: UInt64) throws {}
}

extension IPTablesTable: IPTablesBackend {}
