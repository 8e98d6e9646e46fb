import Foundation
import Kernel
import Planning

/// An in-memory IPVS table that behaves like the kernel's where a sync depends on it: adding what
/// exists fails (EEXIST), changing or deleting what does not fails (ENOENT), deleting a service takes its
/// real servers. It counts the changes it is asked for, and can be told to fail for one service.
public final class FakeIPVS: IPVSBackend, @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    private let lock = NSLock()
    private var table: [IPVSService.Identity: (service: IPVSService, destinations: [IPVSDestination])] = [:]
    private var order: [IPVSService.Identity] = []
    private var changes = 0
    /// Keys of services (`TCP 10.96.0.1:80`) every change to which fails, as a broken kernel module might.
    public var failing: Set<String> = []

    public init() {}

    /// Changes applied since the last `resetCount` (reads not counted).
    public var changeCount: Int { lock.withLock { changes } }
    public func resetCount() { lock.withLock { changes = 0 } }

    /// The table, by service key, for assertions.
    public var entries: [String: IPVSEntry] {
        lock.withLock {
            Dictionary(
                uniqueKeysWithValues: table.values.map {
                    ($0.service.key, IPVSEntry(service: $0.service, destinations: $0.destinations))
                })
        }
    }

    private func change(_ service: IPVSService, _ body: () throws -> Void) throws {
        try lock.withLock {
            if failing.contains(service.key) {
                throw Failure(description: "\(service.key): Invalid argument (injected)")
            }
            try body()
            changes += 1
        }
    }

    public func services() throws -> [IPVSService] {
        lock.withLock { order.compactMap { table[$0]?.service } }
    }

    public func destinations(of service: IPVSService) throws -> [IPVSDestination] {
        try lock.withLock {
            guard let entry = table[service.identity] else {
                throw Failure(description: "\(service.key): No such process")
            }
            return entry.destinations
        }
    }

    public func add(_ service: IPVSService) throws {
        try change(service) {
            guard table[service.identity] == nil else { throw Failure(description: "\(service.key): File exists") }
            table[service.identity] = (service, [])
            order.append(service.identity)
        }
    }

    public func update(_ service: IPVSService) throws {
        try change(service) {
            guard let entry = table[service.identity] else {
                throw Failure(description: "\(service.key): No such process")
            }
            table[service.identity] = (service, entry.destinations)
        }
    }

    public func delete(_ service: IPVSService) throws {
        try change(service) {
            guard table.removeValue(forKey: service.identity) != nil else {
                throw Failure(description: "\(service.key): No such process")
            }
            order.removeAll { $0 == service.identity }
        }
    }

    public func add(_ destination: IPVSDestination, to service: IPVSService) throws {
        try change(service) {
            guard var entry = table[service.identity] else {
                throw Failure(description: "\(service.key): No such process")
            }
            guard !entry.destinations.contains(where: { $0.sameServer(destination) }) else {
                throw Failure(description: "\(destination.key) in \(service.key): File exists")
            }
            entry.destinations.append(destination)
            table[service.identity] = entry
        }
    }

    public func update(_ destination: IPVSDestination, in service: IPVSService) throws {
        try change(service) {
            guard var entry = table[service.identity],
                let i = entry.destinations.firstIndex(where: { $0.sameServer(destination) })
            else {
                throw Failure(description: "\(destination.key) in \(service.key): No such file or directory")
            }
            entry.destinations[i] = destination
            table[service.identity] = entry
        }
    }

    public func delete(_ destination: IPVSDestination, from service: IPVSService) throws {
        try change(service) {
            guard var entry = table[service.identity],
                let i = entry.destinations.firstIndex(where: { $0.sameServer(destination) })
            else {
                throw Failure(description: "\(destination.key) in \(service.key): No such file or directory")
            }
            entry.destinations.remove(at: i)
            table[service.identity] = entry
        }
    }
}
