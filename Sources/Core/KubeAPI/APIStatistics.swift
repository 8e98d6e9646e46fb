import Synchronization

/// What a client and its reflectors did, counted for the agent's metrics: requests by verb and answer,
/// watch events by resource and type, relists by resource and reason. Counts only grow.
public final class APIStatistics: Sendable {
    /// A request: the Kubernetes verb (`LIST`, `WATCH`, `GET`, `POST`, `PUT`, `PATCH`, `DELETE`) and the
    /// HTTP status, or `<error>` when no answer came (connection refused, timeout).
    public struct Request: Hashable, Sendable {
        public var verb: String
        public var code: String
    }

    /// Why a reflector listed again.
    public enum RelistReason: String, Sendable, CaseIterable {
        /// The watch's resource version was older than the server keeps (410 Gone).
        case expired
        /// A watch event was larger than `KubeClient.maxWatchEvent`.
        case eventTooLarge = "event-too-large"
    }

    public struct WatchEvent: Hashable, Sendable {
        public var resource: String
        public var type: String
    }

    public struct Relist: Hashable, Sendable {
        public var resource: String
        public var reason: RelistReason
        public init(resource: String, reason: RelistReason) {
            self.resource = resource
            self.reason = reason
        }
    }

    private struct Counts {
        var requests: [Request: Int] = [:]
        var watchEvents: [WatchEvent: Int] = [:]
        var relists: [Relist: Int] = [:]
    }

    private let counts = Mutex(Counts())

    public init() {}

    public func recordRequest(verb: String, code: Int?) {
        let key = Request(verb: verb, code: code.map(String.init) ?? "<error>")
        counts.withLock { $0.requests[key, default: 0] += 1 }
    }

    public func recordWatchEvent(resource: APIResource, type: KubeClient.WatchEvent.EventType) {
        let key = WatchEvent(resource: resource.plural, type: type.rawValue)
        counts.withLock { $0.watchEvents[key, default: 0] += 1 }
    }

    public func recordRelist(resource: APIResource, reason: RelistReason) {
        counts.withLock { $0.relists[Relist(resource: resource.plural, reason: reason), default: 0] += 1 }
    }

    public var requests: [Request: Int] { counts.withLock { $0.requests } }
    public var watchEvents: [WatchEvent: Int] { counts.withLock { $0.watchEvents } }
    public var relists: [Relist: Int] { counts.withLock { $0.relists } }
}
