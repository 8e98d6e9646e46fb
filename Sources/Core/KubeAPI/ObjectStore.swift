import Foundation
import KubeModel

/// The objects of one resource, with the indexes controllers ask for (namespace, node, pod IP).
/// Thread-safe: the reflector writes, anyone reads.
public final class ObjectStore: @unchecked Sendable {
    private let lock = NSLock()
    private var objects: [String: KubeObject] = [:]
    private var podsByNode: [String: Set<String>] = [:]
    private var podsByIP: [IPAddress: String] = [:]

    public init() {}

    public var count: Int { lock.withLock { objects.count } }

    public func get(_ key: String) -> KubeObject? { lock.withLock { objects[key] } }

    public func list() -> [KubeObject] { lock.withLock { Array(objects.values) } }

    public func keys() -> Set<String> { lock.withLock { Set(objects.keys) } }

    /// Pods scheduled on `node` (the agent's own pods).
    public func pods(onNode node: String) -> [Pod] {
        lock.withLock {
            (podsByNode[node] ?? []).compactMap { if case .pod(let p)? = objects[$0] { p } else { nil } }
        }
    }

    public func pod(ip: IPAddress) -> Pod? {
        lock.withLock { podsByIP[ip].flatMap { if case .pod(let p)? = objects[$0] { p } else { nil } } }
    }

    /// Stores an object; returns the version it replaced.
    @discardableResult
    public func upsert(_ object: KubeObject) -> KubeObject? {
        lock.withLock {
            let old = objects[object.key]
            if let old { unindex(old) }
            objects[object.key] = object
            index(object)
            return old
        }
    }

    @discardableResult
    public func delete(key: String) -> KubeObject? {
        lock.withLock {
            guard let old = objects.removeValue(forKey: key) else { return nil }
            unindex(old)
            return old
        }
    }

    /// Replaces the whole content (after a list) and returns the events that turn the old content into
    /// the new one, deletes included: a relist after a 410 must not lose a delete.
    public func replace(with newObjects: [KubeObject]) -> [InformerEvent] {
        lock.withLock {
            var events: [InformerEvent] = []
            events.reserveCapacity(newObjects.count)
            // Built once at its size and then kept as the content: at 5,000 pods, building a second table (and
            // growing both step by step) was megabytes of transient memory that stayed resident.
            var incoming: [String: KubeObject] = .init(minimumCapacity: newObjects.count)
            for object in newObjects { incoming[object.key] = object }
            for (key, old) in objects where incoming[key] == nil {
                events.append(.deleted(old))
            }
            for (key, new) in incoming {
                if let old = objects[key] {
                    if old != new { events.append(.updated(old: old, new: new)) }
                } else {
                    events.append(.added(new))
                }
            }
            objects = incoming
            podsByNode = [:]
            podsByIP = [:]
            for object in incoming.values { index(object) }
            return events
        }
    }

    private func index(_ object: KubeObject) {
        let key = object.key
        if case .pod(let pod) = object {
            if !pod.nodeName.isEmpty { podsByNode[pod.nodeName, default: []].insert(key) }
            if pod.isEndpoint && !pod.hostNetwork { for ip in pod.ips { podsByIP[ip] = key } }
        }
    }

    private func unindex(_ object: KubeObject) {
        let key = object.key
        if case .pod(let pod) = object {
            podsByNode[pod.nodeName]?.remove(key)
            for ip in pod.ips where podsByIP[ip] == key { podsByIP[ip] = nil }
        }
    }
}
