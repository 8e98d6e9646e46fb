import Foundation

/// What `krctl top` reads from the agent's metrics (Prometheus text): per controller, the sync duration
/// histogram (for the median and 99th percentile, and the mean of the syncs between two scrapes) and the
/// failed syncs. Pure.
public struct TopMetrics: Sendable, Equatable {
    public struct Controller: Sendable, Equatable {
        /// Cumulative buckets: upper bound (seconds) → syncs at most that long.
        public var buckets: [(bound: Double, count: Double)] = []
        public var sum = 0.0
        public var count = 0.0
        public var failures = 0.0

        public init() {}

        public static func == (a: Controller, b: Controller) -> Bool {
            a.sum == b.sum && a.count == b.count && a.failures == b.failures
                && a.buckets.map(\.bound) == b.buckets.map(\.bound) && a.buckets.map(\.count) == b.buckets.map(\.count)
        }

        /// The quantile's bucket bound (as Prometheus' histogram_quantile, without interpolation); nil without syncs.
        public func quantile(_ q: Double) -> Double? {
            guard count > 0 else { return nil }
            let sorted = buckets.sorted { $0.bound < $1.bound }
            let rank = q * count
            for bucket in sorted where bucket.count >= rank {
                return bucket.bound.isFinite ? bucket.bound : sorted.last { $0.bound.isFinite }?.bound
            }
            return nil
        }
    }

    public var controllers: [String: Controller] = [:]
    /// The agent's informers by resource (`pods`, `networkpolicies`, ...): the API watch state.
    public var watches: [String: TopSnapshot.Watch] = [:]

    public init() {}

    public init(text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let brace = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}"),
                let value = Double(line[line.index(after: close)...].split(separator: " ").first ?? "")
            else { continue }
            let name = line[..<brace]
            let labels = Self.labels(String(line[line.index(after: brace)..<close]))
            if let resource = labels["resource"] {
                func update(_ change: (inout TopSnapshot.Watch) -> Void) {
                    var watch = watches[resource] ?? TopSnapshot.Watch(resource: resource)
                    change(&watch)
                    watches[resource] = watch
                }
                switch name {
                case "kube_router_informer_synced": update { $0.synced = value >= 1 }
                case "kube_router_watch_events_total": update { $0.events += value }
                case "kube_router_relists_total":
                    update {
                        $0.relists += value
                        if value > 0, let reason = labels["reason"], !$0.relistReasons.contains(reason) {
                            $0.relistReasons.append(reason)
                            $0.relistReasons.sort()
                        }
                    }
                default: break
                }
                continue
            }
            guard let controller = labels["controller"] else { continue }
            switch name {
            case "kube_router_sync_duration_seconds_bucket":
                let bound = labels["le"] == "+Inf" ? Double.infinity : Double(labels["le"] ?? "") ?? .nan
                if !bound.isNaN { controllers[controller, default: Controller()].buckets.append((bound, value)) }
            case "kube_router_sync_duration_seconds_sum": controllers[controller, default: Controller()].sum = value
            case "kube_router_sync_duration_seconds_count": controllers[controller, default: Controller()].count = value
            case "kube_router_syncs_total" where labels["result"] == "failure":
                controllers[controller, default: Controller()].failures += value
            default: break
            }
        }
    }

    static func labels(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            result[String(parts[0]).trimmingCharacters(in: .whitespaces)] = String(parts[1]).trimmingCharacters(
                in: CharacterSet(charactersIn: "\" "))
        }
        return result
    }

    /// The snapshot's controllers with their durations and failures: the mean of the syncs since `previous`
    /// (the last ones), the median and the 99th percentile since the agent started.
    public func apply(to controllers: [TopSnapshot.Controller], since previous: TopMetrics?) -> [TopSnapshot.Controller]
    {
        controllers.map { c in
            guard let m = self.controllers[c.name] else { return c }
            var c = c
            c.p50 = m.quantile(0.5)
            c.p99 = m.quantile(0.99)
            c.errors = Int(m.failures)
            let before = previous?.controllers[c.name]
            if let before, m.count > before.count {
                c.duration = (m.sum - before.sum) / (m.count - before.count)
            } else if m.count > 0 {
                c.duration = m.sum / m.count
            }
            return c
        }
    }
}
