import Foundation
import Prometheus

/// The agent's Prometheus registry (swift-prometheus), with what the scrape needs beyond it: series whose
/// values are read at scrape time (a kernel counter mirrored into a Prometheus counter by its increments,
/// gauges set from state), and series that go when what they describe goes (a service, a peer).
final class MetricsRegistry: @unchecked Sendable {
    let registry = PrometheusCollectorRegistry()
    private let lock = NSLock()
    private var collectors: [@Sendable () -> Void] = []
    private var counters: [String: (counter: Counter, value: Double)] = [:]
    private var gauges: [String: Gauge] = [:]
    private var histograms: [String: ValueHistogram] = [:]
    /// Series that must be set on every scrape, else removed: key → set in this scrape.
    private var transient: [String: Bool] = [:]

    /// `collect` runs at every scrape, before the registry is written out.
    func addCollector(_ collect: @escaping @Sendable () -> Void) { lock.withLock { collectors.append(collect) } }

    /// The exposition text: collectors first, then series not set again removed.
    func render() -> [UInt8] {
        let run = lock.withLock {
            for key in transient.keys { transient[key] = false }
            return collectors
        }
        for collect in run { collect() }
        lock.withLock {
            for (key, touched) in transient where !touched {
                if let c = counters.removeValue(forKey: key) { registry.unregisterCounter(c.counter) }
                if let g = gauges.removeValue(forKey: key) { registry.unregisterGauge(g) }
                transient[key] = nil
            }
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    private static func key(_ name: String, _ labels: [(String, String)]) -> String {
        name + "{" + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
    }

    /// A counter incremented by the caller.
    func counter(_ family: MetricFamily, _ labels: [(String, String)] = []) -> Counter {
        let key = Self.key(family.name, labels)
        return lock.withLock {
            if let c = counters[key] { return c.counter }
            let c = registry.makeCounter(descriptor: family.descriptor, labels: labels)
            counters[key] = (c, 0)
            return c
        }
    }

    /// A counter that follows a cumulative value read elsewhere (a kernel or session counter): it grows by
    /// the value's increments; a value that went down (its source restarted) counts from zero again.
    func mirror(_ family: MetricFamily, _ labels: [(String, String)] = [], value: Double, transient: Bool = false) {
        let key = Self.key(family.name, labels)
        lock.withLock {
            if transient { self.transient[key] = true }
            let entry = counters[key] ?? (registry.makeCounter(descriptor: family.descriptor, labels: labels), 0)
            if value >= entry.value {
                if value > entry.value { entry.counter.increment(by: value - entry.value) }
            } else {
                entry.counter.increment(by: value)
            }
            counters[key] = (entry.counter, max(value, 0))
        }
    }

    func gauge(_ family: MetricFamily, _ labels: [(String, String)] = [], value: Double, transient: Bool = false) {
        let key = Self.key(family.name, labels)
        lock.withLock {
            if transient { self.transient[key] = true }
            let gauge = gauges[key] ?? registry.makeGauge(descriptor: family.descriptor, labels: labels)
            gauges[key] = gauge
            gauge.set(value)
        }
    }

    func histogram(_ family: MetricFamily, _ labels: [(String, String)], buckets: [Double]) -> ValueHistogram {
        let key = Self.key(family.name, labels)
        return lock.withLock {
            if let h = histograms[key] { return h }
            let h = registry.makeValueHistogram(descriptor: family.descriptor, labels: labels, buckets: buckets)
            histograms[key] = h
            return h
        }
    }
}
