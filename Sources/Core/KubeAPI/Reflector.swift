import Foundation
import KubeModel

/// Keeps an `ObjectStore` equal to one resource on the API server: list (paginated), then watch from the
/// list's resourceVersion with bookmarks, resuming from the last version seen. A 410 (version too old)
/// triggers a fresh list, diffed against the store so that deletes are delivered. Connection failures
/// are retried with exponential backoff and jitter; a watch with no byte for `stallSeconds` is dropped
/// and resumed. Runs on its own thread: the blocking transfers never touch Swift's cooperative pool.
public final class Reflector: @unchecked Sendable {
    public struct Options: Sendable {
        /// Objects per list request.
        public var pageSize = 500
        /// The server closes each watch after a random time in this range (client-go uses 5-10 minutes).
        public var watchTimeout: ClosedRange<Int> = 300...600
        /// A watch that delivers nothing (not even a bookmark) for this long is considered stalled.
        public var stallSeconds = 120
        public var initialBackoff = 0.2
        public var maxBackoff = 30.0
        /// `spec.nodeName=NODE` for pods, when only one node's pods matter.
        public var fieldSelector: String?

        public init() {}
    }

    public let resource: APIResource
    public let store: ObjectStore
    private let client: KubeClient
    private let options: Options
    private let handler: @Sendable (InformerEvent) -> Void

    private let condition = NSCondition()
    private var stopped = false
    private var synced = false
    private var lastResourceVersion = ""
    private var thread: Thread?
    private var lists = 0
    private var watches = 0
    /// Objects the API serves that cannot be read, by key (fail closed: their last good version stays).
    private var rejected: [String: ObjectRejection] = [:]
    /// How many lists (the first, then relists after 410) and watch connections so far: for tests and metrics.
    public var listCount: Int { condition.withLock { lists } }
    public var watchCount: Int { condition.withLock { watches } }

    public init(
        client: KubeClient, resource: APIResource, store: ObjectStore = ObjectStore(), options: Options = Options(),
        handler: @escaping @Sendable (InformerEvent) -> Void
    ) {
        self.client = client
        self.resource = resource
        self.store = store
        self.options = options
        self.handler = handler
    }

    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "reflector \(resource)"
        self.thread = thread
        thread.start()
    }

    /// Stops at the next event or timeout; an open watch is aborted by its write callback.
    public func stop() {
        condition.withLock {
            stopped = true
            condition.broadcast()
        }
    }

    public var isStopped: Bool { condition.withLock { stopped } }
    public var hasSynced: Bool { condition.withLock { synced } }
    public var resourceVersion: String { condition.withLock { lastResourceVersion } }
    /// The objects rejected now, by key order.
    public var rejectedObjects: [ObjectRejection] {
        condition.withLock { rejected.values.sorted { $0.key < $1.key } }
    }

    /// Blocks until the first list is stored, or `timeout` seconds pass.
    @discardableResult
    public func waitForSync(timeout: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        return condition.withLock {
            while !synced && !stopped {
                if !condition.wait(until: deadline) { break }
            }
            return synced
        }
    }

    // MARK: - The loop

    private func run() {
        var needsList = true
        var backoff = options.initialBackoff
        while !isStopped {
            do {
                if needsList {
                    try listAndReplace()
                    needsList = false
                }
                let progressed = try watchOnce()
                if progressed { backoff = options.initialBackoff }
            } catch let error as KubeAPIError where error.statusCode == 410 {
                // Our version is older than the server keeps: start over from a fresh list.
                handler(.problem("\(resource): resource version \(resourceVersion) expired (410): relisting"))
                client.statistics.recordRelist(resource: resource, reason: .expired)
                needsList = true
            } catch let error as KubeClient.WatchEventTooLarge {
                // Its version is unknown (it was not read), so resuming would meet it again: relist.
                handler(.problem("\(error)"))
                client.statistics.recordRelist(resource: resource, reason: .eventTooLarge)
                needsList = true
            } catch {
                handler(.problem("\(resource): \(error); retrying in \(String(format: "%.1f", backoff)) s"))
                sleep(seconds: backoff * Double.random(in: 0.8...1.2))
                backoff = min(backoff * 2, options.maxBackoff)
            }
        }
    }

    private func listAndReplace() throws {
        // Fail closed, exactly as for a watch event: an object that cannot be read keeps its last good
        // version (a relist must not delete the policy that alone isolates a pod). Items are read as their page
        // arrives: only one page's JSON is held at a time.
        var objects: [KubeObject] = []
        var rejections: [String: ObjectRejection] = [:]
        var i = 0
        let resourceVersion = try client.listEach(
            resource, fieldSelector: options.fieldSelector, limit: options.pageSize
        ) { item in
            defer { i += 1 }
            switch read(item, source: "\(resource) list item \(i)") {
            case .object(let object): objects.append(object)
            case .rejected(let key, let error):
                let old = store.get(key)
                if let old { objects.append(old) }
                rejections[key] = ObjectRejection(resource: resource, key: key, error: error, keptLastGood: old != nil)
            case .other: break
            }
        }
        let events = store.replace(with: objects)
        let (firstSync, newRejections) = condition.withLock {
            lastResourceVersion = resourceVersion
            lists += 1
            let new = rejections.values.filter { rejected[$0.key] != $0 }.sorted { $0.key < $1.key }
            rejected = rejections
            return (!synced, new)
        }
        // The handler hears every initial object, and then "synced", before anyone waiting for the sync
        // is released.
        for rejection in newRejections { handler(.rejected(rejection)) }
        for event in events { handler(event) }
        if firstSync { handler(.synced(resource)) }
        condition.withLock {
            synced = true
            condition.broadcast()
        }
    }

    private enum ReadResult {
        case object(KubeObject)
        case rejected(key: String, error: String)
        /// Another kind (never served for this resource): ignored.
        case other
    }

    private func read(_ item: JSONValue, source: String) -> ReadResult {
        var reader = ObjectReader()
        reader.read(item, source: source, inferredKind: resource.kind)
        if let object = reader.objects.first { return object.kind == resource.kind ? .object(object) : .other }
        guard var error = reader.errors.first else { return .other }
        // Named by object and field, not by where it was read (a watch event, a list item): the same
        // problem seen again after a relist is not news.
        error.source = ""
        return .rejected(key: key(of: item), error: error.description)
    }

    /// The store key of a raw object, read leniently (so that even a broken object is found by key).
    private func key(of item: JSONValue) -> String {
        let meta = item["metadata"]
        let name = meta?["name"]?.stringValue ?? ""
        let namespace = meta?["namespace"]?.stringValue ?? ""
        return resource.namespaced ? "\(namespace.isEmpty ? "default" : namespace)/\(name)" : name
    }

    /// One watch connection. Returns whether any event arrived (to reset the backoff).
    private func watchOnce() throws -> Bool {
        let timeout = Int.random(in: options.watchTimeout)
        var progressed = false
        condition.withLock { watches += 1 }
        try client.watch(
            resource, resourceVersion: resourceVersion, fieldSelector: options.fieldSelector,
            timeoutSeconds: timeout, stallSeconds: options.stallSeconds,
            shouldStop: { [self] in isStopped }
        ) { event in
            if isStopped { return false }
            progressed = true
            apply(event)
            return !isStopped
        }
        return progressed
    }

    /// Applies one event to the store, then records its version, then tells the handler: a consumer
    /// woken by the handler always finds the store at least as new as `resourceVersion` says.
    private func apply(_ event: KubeClient.WatchEvent) {
        let version = event.object["metadata"]?["resourceVersion"]?.stringValue
        var delivered: InformerEvent?
        var rejection: ObjectRejection?
        switch event.type {
        case .bookmark, .error:
            break
        case .deleted:
            // Delete by key even when the object itself cannot be read.
            let key = key(of: event.object)
            condition.withLock { rejected[key] = nil }
            if let old = store.delete(key: key) { delivered = .deleted(old) }
        case .added, .modified:
            switch read(event.object, source: "\(resource) watch") {
            case .object(let object):
                condition.withLock { rejected[object.key] = nil }
                if let old = store.upsert(object) {
                    if old != object { delivered = .updated(old: old, new: object) }
                } else {
                    delivered = .added(object)
                }
            case .rejected(let key, let error):
                // The last good version, if any, stays in the store.
                let new = ObjectRejection(
                    resource: resource, key: key, error: error, keptLastGood: store.get(key) != nil)
                rejection = condition.withLock {
                    defer { rejected[key] = new }
                    return rejected[key] == new ? nil : new
                }
            case .other:
                break
            }
        }
        if let version { condition.withLock { lastResourceVersion = version } }
        if let rejection { handler(.rejected(rejection)) }
        if let delivered { handler(delivered) }
    }

    private func sleep(seconds: Double) {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.withLock {
            while !stopped { if !condition.wait(until: deadline) { break } }
        }
    }
}
