import Foundation
import Kernel
import KubeAPI
import KubeModel

/// A cluster for controllers under test: objects set by the test, a version that moves with each change.
public final class FakeCluster: ClusterState, @unchecked Sendable {
    private let lock = NSLock()
    private var objects: [String: KubeObject] = [:]
    private var version = 1
    private var synced = true
    public var rejected: [ObjectRejection] = []

    public init(_ objects: [KubeObject] = []) {
        for object in objects { self.objects["\(object.kind) \(object.key)"] = object }
    }

    /// Adds or replaces objects (by kind and key); returns the new version.
    @discardableResult
    public func apply(_ changed: [KubeObject]) -> Int {
        lock.withLock {
            for object in changed { objects["\(object.kind) \(object.key)"] = object }
            version += 1
            return version
        }
    }

    @discardableResult
    public func delete(kind: String, key: String) -> Int {
        lock.withLock {
            objects["\(kind) \(key)"] = nil
            version += 1
            return version
        }
    }

    public var hasSynced: Bool { lock.withLock { synced } }
    public func snapshot() -> ClusterSnapshot { lock.withLock { ClusterSnapshot(Array(objects.values)) } }
    public var resourceVersions: [String: String] {
        let v = lock.withLock { String(version) }
        return Dictionary(uniqueKeysWithValues: APIResource.all.map { ($0.plural, v) })
    }
    public var rejectedObjects: [ObjectRejection] { lock.withLock { rejected } }
}

/// The dummy link and its addresses, in memory.
public final class FakeLinks: LinkBackend, @unchecked Sendable {
    private let lock = NSLock()
    private var links: [String: Int32] = [:]
    private var addresses: [Int32: [IPAddress]] = [:]
    public private(set) var changes = 0

    public init() {}

    public var all: [String: [IPAddress]] {
        lock.withLock { links.mapValues { addresses[$0] ?? [] } }
    }

    public func ensureDummy(_ name: String) throws -> Int32 {
        lock.withLock {
            if let index = links[name] { return index }
            let index = Int32(links.count + 10)
            links[name] = index
            return index
        }
    }

    public func addresses(index: Int32) throws -> [IPAddress] { lock.withLock { addresses[index] ?? [] } }

    public func add(_ address: IPAddress, index: Int32) throws {
        try lock.withLock {
            guard !(addresses[index] ?? []).contains(address) else {
                throw FakeIPVS.Failure(description: "\(address): File exists")
            }
            addresses[index, default: []].append(address)
            changes += 1
        }
    }

    public func remove(_ address: IPAddress, index: Int32) throws {
        try lock.withLock {
            guard let i = addresses[index]?.firstIndex(of: address) else {
                throw FakeIPVS.Failure(description: "\(address): Cannot assign requested address")
            }
            addresses[index]?.remove(at: i)
            changes += 1
        }
    }
}

extension KernelBackends {
    /// Backends over the given fakes.
    public static func fakes(
        ipsets: FakeIPSets = FakeIPSets(), iptables: FakeIPTables = FakeIPTables(), ipvs: FakeIPVS = FakeIPVS(),
        links: FakeLinks = FakeLinks()
    ) -> KernelBackends {
        KernelBackends(
            ipsets: { ipsets }, iptables: iptables.opener, ipvs: { ipvs }, links: { links }, sysctl: { _, _ in })
    }
}
