import Foundation
import KubeModel

/// The Kubernetes REST API over `CurlTransport`: list with pagination, get, create, update, patch,
/// delete, and watch streams. Synchronous: call it from a dedicated thread or from synchronous code.
public final class KubeClient: Sendable {
    public let config: KubeConfig
    let transport: CurlTransport
    /// Timeout for ordinary requests (not watches), in seconds.
    public let requestTimeout: Double
    /// Requests by verb and answer, and what the reflectors built on this client saw (for metrics).
    public let statistics = APIStatistics()

    public init(config: KubeConfig, requestTimeout: Double = 60) {
        self.config = config
        self.transport = CurlTransport(config: config)
        self.requestTimeout = requestTimeout
    }

    public struct ListPage: Sendable {
        public var items: [JSONValue]
        public var resourceVersion: String
        /// The list's kind, e.g. `PodList`: items of a typed list carry no kind of their own.
        public var kind: String
    }

    /// Lists a whole collection, `limit` objects per request, following `continue` tokens.
    /// `onPage` reports progress (objects so far).
    public func list(
        _ resource: APIResource, namespace: String? = nil, labelSelector: String? = nil,
        fieldSelector: String? = nil, limit: Int = 500,
        onPage: (Int) -> Void = { _ in }
    ) throws -> ListPage {
        var items: [JSONValue] = []
        let resourceVersion = try listEach(
            resource, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector, limit: limit,
            onPage: { _ in onPage(items.count) }, each: { items.append($0) })
        return ListPage(items: items, resourceVersion: resourceVersion, kind: resource.kind + "List")
    }

    /// `list` handing each item to `each` as its page arrives, instead of keeping every page: an informer turns
    /// items into objects one page at a time (at 5,000 pods, the whole list's JSON was the agent's peak memory).
    /// Returns the list's resource version.
    public func listEach(
        _ resource: APIResource, namespace: String? = nil, labelSelector: String? = nil,
        fieldSelector: String? = nil, limit: Int = 500,
        onPage: (Int) -> Void = { _ in }, each: (JSONValue) throws -> Void
    ) throws -> String {
        var count = 0
        var continueToken: String?
        var resourceVersion = ""
        repeat {
            var query = ["limit": String(limit)]
            if let continueToken { query["continue"] = continueToken }
            if let labelSelector { query["labelSelector"] = labelSelector }
            if let fieldSelector { query["fieldSelector"] = fieldSelector }
            var body = try send(
                "GET", resource.collectionPath(namespace: namespace), query: query, verb: "LIST",
                what: "list \(resource)")
            guard case .object(var list) = body else {
                throw KubeAPIError.transport("list \(resource): the answer is not an object")
            }
            body = .null
            let metadata = list["metadata"]
            resourceVersion = metadata?["resourceVersion"]?.stringValue ?? resourceVersion
            continueToken = metadata?["continue"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            let items = list.removeValue(forKey: "items")?.arrayValue ?? []
            list = [:]
            for item in items { try each(item) }
            count += items.count
            onPage(count)
        } while continueToken != nil
        return resourceVersion
    }

    public func get(_ resource: APIResource, namespace: String?, name: String) throws -> JSONValue {
        try send("GET", resource.objectPath(namespace: namespace, name: name), what: "get \(resource) \(name)")
    }

    public func create(_ resource: APIResource, namespace: String?, object: JSONValue) throws -> JSONValue {
        try send(
            "POST", resource.collectionPath(namespace: namespace), body: object.jsonData(), what: "create \(resource)")
    }

    public func update(
        _ resource: APIResource, namespace: String?, name: String, object: JSONValue, subresource: String? = nil
    ) throws -> JSONValue {
        let path = resource.objectPath(namespace: namespace, name: name) + (subresource.map { "/\($0)" } ?? "")
        return try send("PUT", path, body: object.jsonData(), what: "update \(resource) \(name)")
    }

    /// A JSON merge patch (RFC 7386).
    public func patch(
        _ resource: APIResource, namespace: String?, name: String, mergePatch: JSONValue, subresource: String? = nil
    ) throws -> JSONValue {
        let path = resource.objectPath(namespace: namespace, name: name) + (subresource.map { "/\($0)" } ?? "")
        return try send(
            "PATCH", path, body: mergePatch.jsonData(), contentType: "application/merge-patch+json",
            what: "patch \(resource) \(name)")
    }

    @discardableResult
    public func delete(_ resource: APIResource, namespace: String?, name: String) throws -> JSONValue {
        try send("DELETE", resource.objectPath(namespace: namespace, name: name), what: "delete \(resource) \(name)")
    }

    /// One event of a watch stream.
    public struct WatchEvent: Sendable {
        public enum EventType: String, Sendable {
            case added = "ADDED", modified = "MODIFIED", deleted = "DELETED", bookmark = "BOOKMARK", error = "ERROR"
        }
        public var type: EventType
        public var object: JSONValue
    }

    /// Streams a watch from `resourceVersion` until the server closes it, `onEvent` returns false, or no byte
    /// arrives for `stallSeconds`. Throws `KubeAPIError.status(410, ...)` when the version is too old
    /// (whether the server says so with an HTTP status or with an ERROR event).
    /// The largest watch event read (etcd keeps objects under 1.5 MiB by default): a larger one ends the
    /// watch with `WatchEventTooLarge` instead of growing a buffer without bound.
    public static let maxWatchEvent = 64 << 20

    public func watch(
        _ resource: APIResource, resourceVersion: String, fieldSelector: String? = nil,
        timeoutSeconds: Int, stallSeconds: Int, shouldStop: (() -> Bool)? = nil,
        onEvent: (WatchEvent) -> Bool
    ) throws {
        var query = ["watch": "1", "allowWatchBookmarks": "true", "timeoutSeconds": String(timeoutSeconds)]
        if !resourceVersion.isEmpty { query["resourceVersion"] = resourceVersion }
        if let fieldSelector { query["fieldSelector"] = fieldSelector }
        let path = resource.collectionPath() + Self.queryString(query)
        var framer = LineFramer(maxLine: Self.maxWatchEvent)
        var failure: Error?
        var errorBody = Data()
        let statistics = self.statistics
        let status: Int
        do {
            status = try withoutActuallyEscaping(onEvent) { onEvent in
                try transport.stream(
                    path: path, timeout: Double(timeoutSeconds) + 30, stallSeconds: stallSeconds,
                    shouldStop: shouldStop
                ) { chunk, status in
                    // A non-2xx answer carries an error Status: read it whole, below.
                    if status >= 300 {
                        errorBody.append(contentsOf: chunk)
                        return true
                    }
                    do {
                        return try framer.feed(chunk) { line in
                            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { return true }
                            guard let value = try? JSONValue.parseJSON(Data(line)),
                                let typeText = value["type"]?.stringValue,
                                let type = WatchEvent.EventType(rawValue: typeText)
                            else {
                                let head = String(decoding: line.prefix(200), as: UTF8.self)
                                failure = KubeAPIError.transport("watch \(resource): undecodable event \(head)")
                                return false
                            }
                            let object = value["object"] ?? .null
                            if type == .error {
                                failure = Self.statusError(
                                    object, httpStatus: object["code"]?.intValue ?? 500, config: self.config)
                                return false
                            }
                            statistics.recordWatchEvent(resource: resource, type: type)
                            return onEvent(WatchEvent(type: type, object: object))
                        }
                    } catch {
                        let tooLong = error as? LineFramer.TooLong
                        failure = WatchEventTooLarge(
                            resource: resource, bytes: tooLong?.bytes ?? 0,
                            limit: tooLong?.limit ?? Self.maxWatchEvent)
                        return false
                    }
                }
            }
        } catch {
            statistics.recordRequest(verb: "WATCH", code: nil)
            throw error
        }
        statistics.recordRequest(verb: "WATCH", code: status)
        if status >= 300 {
            let body = (try? JSONValue.parseJSON(errorBody)) ?? .null
            throw Self.statusError(body, httpStatus: status, config: config)
        }
        if let failure { throw failure }
    }

    /// A watch event longer than `KubeClient.maxWatchEvent`: the watch ends; the reflector relists.
    public struct WatchEventTooLarge: Error, Sendable, CustomStringConvertible {
        public var resource: APIResource
        public var bytes: Int
        public var limit: Int
        public var description: String {
            "watch \(resource): an event of more than \(limit >> 20) MiB (\(bytes) bytes without a newline): relisting"
        }
    }

    // MARK: - Plumbing

    static func queryString(_ query: [String: String]) -> String {
        guard !query.isEmpty else { return "" }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return "?"
            + query.sorted { $0.key < $1.key }.map { key, value in
                "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
            }.joined(separator: "&")
    }

    /// A raw API call (any path), answering the decoded JSON body or throwing the server's Status as an error.
    public func send(
        _ method: String, _ path: String, query: [String: String] = [:], body: Data? = nil,
        contentType: String = "application/json", verb: String? = nil, what: String
    ) throws -> JSONValue {
        let response: CurlTransport.Response
        do {
            response = try transport.request(
                method: method, path: path + Self.queryString(query), body: body,
                contentType: contentType, timeout: requestTimeout)
        } catch {
            statistics.recordRequest(verb: verb ?? method, code: nil)
            throw error
        }
        statistics.recordRequest(verb: verb ?? method, code: response.status)
        let value = response.body.isEmpty ? JSONValue.null : (try? JSONValue.parseJSON(response.body))
        guard (200..<300).contains(response.status) else {
            throw Self.statusError(value ?? .null, httpStatus: response.status, config: config, what: what)
        }
        guard let value else {
            throw KubeAPIError.transport("\(what): the API server's answer is not JSON (HTTP \(response.status))")
        }
        return value
    }

    /// Turns a `Status` object into an error that says who was refused what.
    static func statusError(
        _ status: JSONValue, httpStatus: Int, config: KubeConfig, what: String? = nil
    ) -> KubeAPIError {
        var message = status["message"]?.stringValue ?? "HTTP \(httpStatus)"
        var reason = status["reason"]?.stringValue ?? ""
        switch httpStatus {
        case 401:
            reason = "Unauthorized"
            message =
                "the API server rejected the credentials of user \"\(config.user)\" (\(config.origin)): \(message)"
        case 403:
            reason = "Forbidden"
            message = "user \"\(config.user)\" may not \(what ?? "do this"): \(message)"
        case 410:
            if reason.isEmpty { reason = "Expired" }
        default:
            if reason.isEmpty { reason = "HTTP \(httpStatus)" }
            if let what { message = "\(what): \(message)" }
        }
        return .status(code: httpStatus, reason: reason, message: message)
    }
}
