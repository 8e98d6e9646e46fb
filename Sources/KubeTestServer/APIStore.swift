import Foundation
import KubeAPI
import KubeModel

/// The objects of the test API server, with one global resourceVersion counter and a bounded history
/// of changes for watches. A watch from a version older than the history reaches gets 410 Gone, as
/// on a real server after compaction (and after a restart, since the history is not persisted).
public actor APIStore {
    struct Change {
        var rv: Int
        var resource: APIResource
        var type: String
        var object: JSONValue
        var old: JSONValue?
    }

    struct Watcher {
        var resource: APIResource
        var filter: ObjectFilter
        var continuation: AsyncStream<WatchMessage>.Continuation
        var stalled = false
    }

    private(set) var rv: Int = 1
    /// The oldest version a watch may start from.
    private var compactedRV: Int = 1
    private var objects: [String: [String: JSONValue]] = [:]
    private var history: [Change] = []
    private let historyLimit: Int
    private var watchers: [UUID: Watcher] = [:]
    private let statePath: String?
    /// Pods bound to a node are deleted gracefully, as kube-apiserver does: a DELETE marks them with
    /// `deletionTimestamp` and the node (the lab's kubelet) removes them with a grace period of 0 once their
    /// containers have stopped. Without it every DELETE removes the object at once.
    let gracefulPodDeletion: Bool
    /// `--service-cluster-ip-range`: Services created without a cluster IP get the next free one of this
    /// IPv4 range (its first address is the `kubernetes` Service's, as kube-apiserver keeps it); headless
    /// (`None`) and ExternalName Services get none. Without it Services keep what they were given.
    let serviceIPRange: (base: UInt32, size: UInt32)?

    public init(
        statePath: String?, historyLimit: Int, gracefulPodDeletion: Bool = false,
        serviceIPRange: (base: UInt32, size: UInt32)? = nil
    ) throws {
        self.statePath = statePath
        self.historyLimit = historyLimit
        self.gracefulPodDeletion = gracefulPodDeletion
        self.serviceIPRange = serviceIPRange
        if let statePath, let data = FileManager.default.contents(atPath: statePath) {
            let state = try JSONValue.parseJSON(data)
            rv = state["resourceVersion"]?.intValue ?? 1
            for (plural, items) in state["objects"]?.objectValue ?? [:] {
                objects[plural] = items.objectValue ?? [:]
            }
        } else {
            for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
                rv += 1
                objects["namespaces", default: [:]][name] = Self.namespaceObject(name, rv: rv)
            }
        }
        compactedRV = rv
    }

    static func namespaceObject(_ name: String, rv: Int) -> JSONValue {
        .object([
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": .object([
                "name": .string(name), "uid": .string(UUID().uuidString.lowercased()),
                "resourceVersion": .string(String(rv)), "creationTimestamp": .string(timestamp()),
                "labels": .object(["kubernetes.io/metadata.name": .string(name)]),
            ]),
            "spec": .object(["finalizers": .array(["kubernetes"])]),
            "status": .object(["phase": "Active"]),
        ])
    }

    /// Now (plus `seconds`) as the API writes times: `2026-11-29T09:48:14Z` (`Timestamp`: an ISO8601DateFormatter
    /// made for each object dominated the cost of a create).
    static func timestamp(after seconds: TimeInterval = 0) -> String {
        Timestamp.string(Date().addingTimeInterval(seconds))
    }

    /// Gives a Service the next free address of `range` when it has none (ClusterIP, NodePort, LoadBalancer).
    private func allocateClusterIP(_ service: inout JSONValue, from range: (base: UInt32, size: UInt32)) throws {
        if service["spec"]?["type"]?.stringValue == "ExternalName" { return }
        if let given = service["spec"]?["clusterIP"]?.stringValue, !given.isEmpty { return }
        func text(_ address: UInt32) -> String {
            "\(address >> 24).\((address >> 16) & 255).\((address >> 8) & 255).\(address & 255)"
        }
        let used = Set((objects["services"] ?? [:]).values.compactMap { $0["spec"]?["clusterIP"]?.stringValue })
        // The first address (network + 1) is kept for the kubernetes Service.
        let isKubernetes =
            service["metadata"]?["name"] == "kubernetes" && service["metadata"]?["namespace"] == "default"
        for offset in (isKubernetes ? 1 : 2)..<max(range.size - 1, 2) {
            let address = text(range.base + offset)
            if !used.contains(address) {
                if service["spec"] == nil { service["spec"] = .object([:]) }
                service["spec"]?["clusterIP"] = .string(address)
                service["spec"]?["clusterIPs"] = .array([.string(address)])
                return
            }
        }
        throw APIError(
            code: 500, reason: "InternalError", message: "no cluster IP left in the service range", kind: "services",
            name: service["metadata"]?["name"]?.stringValue ?? "")
    }

    static func key(_ resource: APIResource, namespace: String?, name: String) -> String {
        resource.namespaced ? "\(namespace ?? "default")/\(name)" : name
    }

    // MARK: - Reads

    func get(_ resource: APIResource, namespace: String?, name: String) throws -> JSONValue {
        guard let object = objects[resource.plural]?[Self.key(resource, namespace: namespace, name: name)] else {
            throw APIError.notFound(resource, name)
        }
        return object
    }

    /// A page of a list. The continue token carries the list's version and the last key served, so
    /// every page reports the same resourceVersion (the one a watch continues from).
    func list(_ resource: APIResource, filter: ObjectFilter, limit: Int?, continueToken: String?) throws -> JSONValue {
        var listRV = rv
        var after: String?
        if let continueToken, !continueToken.isEmpty {
            guard let decoded = Data(base64Encoded: continueToken).map({ String(decoding: $0, as: UTF8.self) }),
                let bar = decoded.firstIndex(of: "|"), let tokenRV = Int(decoded[..<bar])
            else {
                throw APIError.badRequest("invalid continue token")
            }
            guard tokenRV >= compactedRV else {
                throw APIError.gone(
                    "The provided continue parameter is too old to display a consistent list result. "
                        + "You can start a new list without the continue parameter."
                )
            }
            listRV = tokenRV
            after = String(decoded[decoded.index(after: bar)...])
        }
        let keys = (objects[resource.plural] ?? [:]).keys.sorted()
        var items: [JSONValue] = []
        var lastKey: String?
        var more = false
        for key in keys {
            if let after, key <= after { continue }
            guard let object = objects[resource.plural]?[key], filter.matches(object) else { continue }
            if let limit, limit > 0, items.count == limit {
                more = true
                break
            }
            // As on a real server, items of a typed list carry no kind or apiVersion.
            var item = object
            item["kind"] = nil
            item["apiVersion"] = nil
            items.append(item)
            lastKey = key
        }
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(listRV))]
        if more, let lastKey {
            metadata["continue"] = .string(Data("\(listRV)|\(lastKey)".utf8).base64EncodedString())
        }
        return .object([
            "kind": .string(resource.kind + "List"), "apiVersion": .string(resource.apiVersion),
            "metadata": .object(metadata), "items": .array(items),
        ])
    }

    // MARK: - Writes

    func create(_ resource: APIResource, namespace: String?, body: JSONValue, validate: Bool = true) throws -> JSONValue
    {
        var object = body
        guard case .object = object else { throw APIError.badRequest("the body is not a JSON object") }
        var meta = object["metadata"]?.objectValue ?? [:]
        if (meta["name"]?.stringValue ?? "").isEmpty, let prefix = meta["generateName"]?.stringValue {
            meta["name"] = .string(prefix + String(UUID().uuidString.lowercased().prefix(5)))
        }
        guard let name = meta["name"]?.stringValue, !name.isEmpty else {
            throw APIError.invalid(resource, "", "metadata.name: Required value: name or generateName is required")
        }
        if resource.namespaced {
            let ns = namespace ?? meta["namespace"]?.stringValue ?? "default"
            if let given = meta["namespace"]?.stringValue, !given.isEmpty, given != ns {
                throw APIError.badRequest(
                    "the namespace of the provided object does not match the namespace sent on the request")
            }
            guard let namespaceObject = objects["namespaces"]?[ns] else { throw APIError.namespaceNotFound(ns) }
            if namespaceObject["metadata"]?["deletionTimestamp"] != nil {
                throw APIError(
                    code: 403, reason: "Forbidden",
                    message:
                        "\(resource) \"\(name)\" is forbidden: unable to create new content in namespace \(ns) "
                        + "because it is being terminated",
                    kind: resource.plural, name: name)
            }
            meta["namespace"] = .string(ns)
        } else {
            meta["namespace"] = nil
        }
        let key = Self.key(resource, namespace: meta["namespace"]?.stringValue, name: name)
        if objects[resource.plural]?[key] != nil { throw APIError.alreadyExists(resource, name) }
        if resource == .namespaces {
            var labels = meta["labels"]?.objectValue ?? [:]
            labels["kubernetes.io/metadata.name"] = .string(name)
            meta["labels"] = .object(labels)
            if object["status"] == nil { object["status"] = .object(["phase": "Active"]) }
        }
        if resource == .services, let range = serviceIPRange { try allocateClusterIP(&object, from: range) }
        meta["uid"] = .string(UUID().uuidString.lowercased())
        meta["creationTimestamp"] = .string(Self.timestamp())
        meta["generation"] = .int(1)
        object["metadata"] = .object(meta)
        object["kind"] = .string(resource.kind)
        object["apiVersion"] = .string(resource.apiVersion)
        if validate { try check(resource, object, name: name) }
        return commit(resource, key: key, type: "ADDED", object: object, old: nil)
    }

    /// PUT. For pods, the main resource keeps the stored status and `/status` changes only the status.
    func update(
        _ resource: APIResource, namespace: String?, name: String, body: JSONValue, subresource: String?
    ) throws -> JSONValue {
        let key = Self.key(resource, namespace: namespace, name: name)
        guard let old = objects[resource.plural]?[key] else { throw APIError.notFound(resource, name) }
        guard case .object = body else { throw APIError.badRequest("the body is not a JSON object") }
        if let given = body["metadata"]?["resourceVersion"]?.stringValue, !given.isEmpty,
            given != old["metadata"]?["resourceVersion"]?.stringValue
        {
            throw APIError.conflict(resource, name)
        }
        if let bodyName = body["metadata"]?["name"]?.stringValue, bodyName != name {
            throw APIError.badRequest(
                "the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        return try replace(resource, key: key, name: name, old: old, new: body, subresource: subresource)
    }

    func patch(
        _ resource: APIResource, namespace: String?, name: String, patch: JSONValue, contentType: String,
        subresource: String?
    ) throws -> JSONValue {
        let key = Self.key(resource, namespace: namespace, name: name)
        guard let old = objects[resource.plural]?[key] else { throw APIError.notFound(resource, name) }
        let new: JSONValue
        switch contentType {
        case "application/merge-patch+json": new = MergePatch.apply(patch, to: old)
        case "application/strategic-merge-patch+json": new = MergePatch.applyStrategic(patch, to: old)
        case "application/json-patch+json":
            do {
                new = try MergePatch.applyJSONPatch(patch, to: old)
            } catch let error as MergePatch.PatchError {
                throw APIError(
                    code: 422, reason: "Invalid", message: "the JSON patch cannot be applied: \(error)",
                    kind: resource.plural, name: name)
            }
        default:
            throw APIError(
                code: 415, reason: "UnsupportedMediaType",
                message:
                    "the body of the request was in an unknown format - accepted media types include: "
                    + "application/json-patch+json, application/merge-patch+json, "
                    + "application/strategic-merge-patch+json"
            )
        }
        return try replace(resource, key: key, name: name, old: old, new: new, subresource: subresource)
    }

    private func replace(
        _ resource: APIResource, key: String, name: String, old: JSONValue, new body: JSONValue,
        subresource: String?
    ) throws -> JSONValue {
        var object = body
        if subresource == "status" {
            object = old
            object["status"] = body["status"]
        } else if resource.kind == "Pod" || resource.kind == "Namespace" {
            object["status"] = old["status"]
        }
        // Identity and bookkeeping are the server's.
        var meta = object["metadata"]?.objectValue ?? [:]
        let oldMeta = old["metadata"]?.objectValue ?? [:]
        for field in ["name", "namespace", "uid", "creationTimestamp"] { meta[field] = oldMeta[field] }
        if resource == .namespaces {
            var labels = meta["labels"]?.objectValue ?? [:]
            labels["kubernetes.io/metadata.name"] = .string(name)
            meta["labels"] = .object(labels)
        }
        let specChanged = object["spec"] != old["spec"]
        meta["generation"] = .int(Int64((oldMeta["generation"]?.intValue ?? 1) + (specChanged ? 1 : 0)))
        meta["resourceVersion"] = oldMeta["resourceVersion"]
        object["metadata"] = .object(meta)
        object["kind"] = .string(resource.kind)
        object["apiVersion"] = .string(resource.apiVersion)
        if object == old { return old }  // a no-op write does not bump the version
        try check(resource, object, name: name)
        return commit(resource, key: key, type: "MODIFIED", object: object, old: old)
    }

    /// DELETE. `gracePeriodSeconds` (from the query or the DeleteOptions body) matters only for bound pods
    /// under `gracefulPodDeletion`: nil takes the pod's `terminationGracePeriodSeconds` (30 by default), 0
    /// removes the pod at once.
    func delete(
        _ resource: APIResource, namespace: String?, name: String, gracePeriodSeconds: Int? = nil
    ) throws -> JSONValue {
        let key = Self.key(resource, namespace: namespace, name: name)
        guard let old = objects[resource.plural]?[key] else { throw APIError.notFound(resource, name) }
        if resource == .pods, gracefulPodDeletion, old["spec"]?["nodeName"]?.stringValue?.isEmpty == false {
            let grace = gracePeriodSeconds ?? old["spec"]?["terminationGracePeriodSeconds"]?.intValue ?? 30
            let marked = old["metadata"]?["deletionTimestamp"] != nil
            if grace > 0 {
                // The first DELETE marks the pod; a later one may only shorten its grace period.
                let current = old["metadata"]?["deletionGracePeriodSeconds"]?.intValue ?? Int.max
                if marked && grace >= current { return old }
                var terminating = old
                terminating["metadata"]?["deletionTimestamp"] = .string(
                    Self.timestamp(after: TimeInterval(grace)))
                terminating["metadata"]?["deletionGracePeriodSeconds"] = .int(Int64(grace))
                return commit(resource, key: key, type: "MODIFIED", object: terminating, old: old)
            }
        }
        if resource == .namespaces {
            // As on a real cluster, the namespace first turns Terminating; its content and then the
            // namespace itself go shortly after, so that `kubectl delete -f` of a folder that also lists
            // the content still finds it.
            if old["metadata"]?["deletionTimestamp"] != nil { return old }
            var terminating = old
            terminating["metadata"]?["deletionTimestamp"] = .string(Self.timestamp())
            terminating["status"] = .object(["phase": "Terminating"])
            let result = commit(resource, key: key, type: "MODIFIED", object: terminating, old: old)
            Task {
                try? await Task.sleep(for: .milliseconds(300))
                await self.finalizeNamespace(name)
            }
            return result
        }
        return remove(resource, key: key, object: old)
    }

    private func finalizeNamespace(_ name: String) {
        for r in Discovery.served where r.namespaced {
            for (k, o) in objects[r.plural] ?? [:] where o["metadata"]?["namespace"]?.stringValue == name {
                remove(r, key: k, object: o)
            }
        }
        if let ns = objects["namespaces"]?[name] { remove(.namespaces, key: name, object: ns) }
    }

    @discardableResult
    private func remove(_ resource: APIResource, key: String, object: JSONValue) -> JSONValue {
        objects[resource.plural]?[key] = nil
        rv += 1
        var gone = object
        gone["metadata"]?["resourceVersion"] = .string(String(rv))
        record(Change(rv: rv, resource: resource, type: "DELETED", object: gone, old: object))
        save()
        return gone
    }

    /// Validates with the same decoders krctl and the agent use; the server refuses what they would.
    private func check(_ resource: APIResource, _ object: JSONValue, name: String) throws {
        do {
            _ = try KubeObject.decode(kind: resource.kind, object)
        } catch let error as FieldError {
            throw APIError.invalid(resource, name, error.description)
        }
    }

    private func commit(
        _ resource: APIResource, key: String, type: String, object: JSONValue, old: JSONValue?
    ) -> JSONValue {
        rv += 1
        var stored = object
        stored["metadata"]?["resourceVersion"] = .string(String(rv))
        objects[resource.plural, default: [:]][key] = stored
        record(Change(rv: rv, resource: resource, type: type, object: stored, old: old))
        save()
        return stored
    }

    private func record(_ change: Change) {
        history.append(change)
        if history.count > historyLimit {
            history.removeFirst(history.count - historyLimit)
            compactedRV = history.first.map { $0.rv - 1 } ?? rv
        }
        for (id, watcher) in watchers where watcher.resource == change.resource && !watcher.stalled {
            if let message = Self.message(for: change, filter: watcher.filter) {
                watchers[id]?.continuation.yield(message)
            }
        }
    }

    /// The event a filtered watcher sees: an object leaving its selection is a DELETED for it.
    private static func message(for change: Change, filter: ObjectFilter) -> WatchMessage? {
        let now = filter.matches(change.object)
        let before = change.old.map(filter.matches) ?? false
        switch (change.type, before, now) {
        case ("DELETED", _, _): return before || now ? .event(type: "DELETED", object: change.object) : nil
        case ("ADDED", _, true): return .event(type: "ADDED", object: change.object)
        case ("MODIFIED", true, true): return .event(type: "MODIFIED", object: change.object)
        case ("MODIFIED", false, true): return .event(type: "ADDED", object: change.object)
        case ("MODIFIED", true, false): return .event(type: "DELETED", object: change.object)
        default: return nil
        }
    }

    // MARK: - Watches

    /// Registers a watcher. From a version: the changes after it (410 if they are no longer kept); from
    /// "" or "0": every current object as ADDED first, as a real server does.
    func watch(
        _ resource: APIResource, filter: ObjectFilter, from version: String?
    ) throws -> (UUID, AsyncStream<WatchMessage>) {
        var initial: [WatchMessage] = []
        if let version, !version.isEmpty, version != "0" {
            guard let from = Int(version) else { throw APIError.badRequest("invalid resourceVersion \"\(version)\"") }
            guard from >= compactedRV else {
                throw APIError.gone("too old resource version: \(from) (\(compactedRV))")
            }
            for change in history where change.rv > from && change.resource == resource {
                if let message = Self.message(for: change, filter: filter) { initial.append(message) }
            }
        } else {
            for key in (objects[resource.plural] ?? [:]).keys.sorted() {
                if let object = objects[resource.plural]?[key], filter.matches(object) {
                    initial.append(.event(type: "ADDED", object: object))
                }
            }
        }
        let (stream, continuation) = AsyncStream<WatchMessage>.makeStream()
        for message in initial { continuation.yield(message) }
        let id = UUID()
        watchers[id] = Watcher(resource: resource, filter: filter, continuation: continuation)
        let waiting = watcherWaiters
        watcherWaiters.removeAll()
        for waiter in waiting { waiter.resume() }
        return (id, stream)
    }

    private var watcherWaiters: [CheckedContinuation<Void, Never>] = []

    /// Returns once `count` watches of `resource` are open (or after `timeout` seconds): lets a test
    /// act on a watch only after the client's watch request has reached the server.
    func awaitWatchers(_ resource: APIResource, count: Int, timeout: Double) async -> Int {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while watchers.values.filter({ $0.resource == resource && !$0.stalled }).count < count
            && ContinuousClock.now < deadline
        {
            let wake = Task { [weak self] in
                try? await Task.sleep(until: deadline)
                await self?.wakeWatcherWaiters()
            }
            await withCheckedContinuation { watcherWaiters.append($0) }
            wake.cancel()
        }
        return watchers.values.filter { $0.resource == resource && !$0.stalled }.count
    }

    private func wakeWatcherWaiters() {
        let waiting = watcherWaiters
        watcherWaiters.removeAll()
        for waiter in waiting { waiter.resume() }
    }

    func unwatch(_ id: UUID) {
        watchers.removeValue(forKey: id)?.continuation.finish()
    }

    func isStalled(_ id: UUID) -> Bool { watchers[id]?.stalled ?? false }

    func yieldToWatcher(_ message: WatchMessage, _ id: UUID) {
        watchers[id]?.continuation.yield(message)
    }

    /// The RBAC objects, for `--rbac`.
    func authorizer() -> RBACAuthorizer {
        RBACAuthorizer(
            roles: objects[Discovery.clusterRoles.plural] ?? [:],
            bindings: Array((objects[Discovery.clusterRoleBindings.plural] ?? [:]).values))
    }

    // MARK: - Test hooks

    /// Forgets the change history: every watch from an older version now gets 410.
    func compact() {
        history.removeAll()
        compactedRV = rv
    }

    /// Closes every open watch abruptly.
    func dropWatches() -> Int {
        for (_, w) in watchers { w.continuation.yield(.drop) }
        return watchers.count
    }

    /// Open watches stop sending anything (events and bookmarks) while the connection stays up.
    func stallWatches() -> Int {
        for id in watchers.keys { watchers[id]?.stalled = true }
        return watchers.count
    }

    /// Stores an object without validation: how a malformed object reaches clients in tests.
    func inject(_ resource: APIResource, namespace: String?, body: JSONValue) throws -> JSONValue {
        let name = body["metadata"]?["name"]?.stringValue ?? ""
        let ns = resource.namespaced ? (namespace ?? body["metadata"]?["namespace"]?.stringValue ?? "default") : nil
        var object = body
        if let ns { object["metadata"]?["namespace"] = .string(ns) }
        let key = Self.key(resource, namespace: ns, name: name)
        let old = objects[resource.plural]?[key]
        return commit(resource, key: key, type: old == nil ? "ADDED" : "MODIFIED", object: object, old: old)
    }

    /// Touches `count` objects (a label bump): a burst of MODIFIED events, for benchmarks.
    func touch(_ resource: APIResource, count: Int) -> Int {
        let keys = (objects[resource.plural] ?? [:]).keys.sorted().prefix(count)
        withSaveSuspended {
            for key in keys {
                guard var object = objects[resource.plural]?[key] else { continue }
                let old = object
                var labels = object["metadata"]?["labels"]?.objectValue ?? [:]
                labels["touched"] = .string(String(rv + 1))
                object["metadata"]?["labels"] = .object(labels)
                _ = commit(resource, key: key, type: "MODIFIED", object: object, old: old)
            }
        }
        return keys.count
    }

    // MARK: - Persistence

    private var saveSuspended = false

    /// Bulk changes (benchmark bursts) write the state once at the end.
    func withSaveSuspended<T>(_ body: () throws -> T) rethrows -> T {
        saveSuspended = true
        defer {
            saveSuspended = false
            save()
        }
        return try body()
    }

    private func save() {
        guard let statePath, !saveSuspended else { return }
        var all: [String: JSONValue] = [:]
        for (plural, items) in objects { all[plural] = .object(items) }
        let state: JSONValue = .object(["resourceVersion": .int(Int64(rv)), "objects": .object(all)])
        try? state.jsonData().write(to: URL(fileURLWithPath: statePath), options: .atomic)
    }
}
