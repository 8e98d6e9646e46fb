import Foundation

/// Rates from counter deltas over the real time between two reads (never the kernel's estimator, which can
/// read 0). A counter that went down was reset (a rule rewritten without its counters, a module reloaded):
/// it counted from zero within the window, so its value over the window is the rate's best estimate. An
/// object without a previous reading, or one whose identity changed (a pod chain renamed), has no rate yet.
public enum TopRates {
    /// Per second; nil without a previous reading or without time between the two.
    public static func rate(_ previous: Double?, _ current: Double, elapsed: Double) -> Double? {
        guard let previous, elapsed > 0, elapsed.isFinite else { return nil }
        return current >= previous ? (current - previous) / elapsed : current / elapsed
    }

    public static func rate(_ previous: UInt64?, _ current: UInt64?, elapsed: Double) -> Double? {
        guard let current else { return nil }
        return rate(previous.map { Double($0) }, Double(current), elapsed: elapsed)
    }

    /// How often a source whose read costs `cost` milliseconds of CPU is read so that it takes at most
    /// `budget` of one core: every tick (`interval` seconds) while that fits, else every few whole ticks.
    public static func period(cost: Double, interval: Double, budget: Double) -> Double {
        guard interval > 0, budget > 0, cost.isFinite, cost > 0 else { return interval }
        let wanted = cost / 1000 / budget
        return wanted <= interval ? interval : (wanted / interval).rounded(.up) * interval
    }

    public static func rates(
        _ previous: TopSnapshot.Counters?, _ current: TopSnapshot.Counters, elapsed: Double
    ) -> TopSnapshot.Counters? {
        guard let previous, elapsed > 0 else { return nil }
        func r(_ path: KeyPath<TopSnapshot.Counters, Double>) -> Double {
            rate(previous[keyPath: path], current[keyPath: path], elapsed: elapsed) ?? 0
        }
        return TopSnapshot.Counters(
            connections: r(\.connections), packetsIn: r(\.packetsIn), packetsOut: r(\.packetsOut),
            bytesIn: r(\.bytesIn), bytesOut: r(\.bytesOut))
    }
}

extension TopSnapshot {
    /// This snapshot with its rates: each counter's growth since `previous` over the time between the two.
    /// Objects are matched by identity (virtual service key, real server address, pod chain and direction),
    /// never by position.
    public func rated(since previous: TopSnapshot?) -> TopSnapshot {
        var result = self
        guard let previous else {
            result.elapsed = nil
            return result
        }
        let elapsed = time.timeIntervalSince(previous.time)
        result.elapsed = elapsed
        let services = Dictionary(previous.services.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for i in result.services.indices {
            let old = services[result.services[i].key]
            result.services[i].rates = TopRates.rates(old?.counters, result.services[i].counters, elapsed: elapsed)
            let oldServers = old?.servers ?? []
            // The same servers in the same order (the usual case): by position; else by address.
            if oldServers.count == result.services[i].servers.count
                && zip(oldServers, result.services[i].servers).allSatisfy({ $0.address == $1.address })
            {
                for j in oldServers.indices {
                    result.services[i].servers[j].rates = TopRates.rates(
                        oldServers[j].counters, result.services[i].servers[j].counters, elapsed: elapsed)
                }
                continue
            }
            let servers = Dictionary(oldServers.map { ($0.address, $0) }, uniquingKeysWith: { a, _ in a })
            for j in result.services[i].servers.indices {
                let server = result.services[i].servers[j]
                result.services[i].servers[j].rates = TopRates.rates(
                    servers[server.address]?.counters, server.counters, elapsed: elapsed)
            }
        }
        let pods = Dictionary(previous.pods.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        // The pods' counters have a time of their own: not read again this tick, they keep the rates they had
        // (`previous` is then the rated snapshot before); read again, their window is since their last read.
        let countersElapsed = (countersRead ?? time).timeIntervalSince(previous.countersRead ?? previous.time)
        let unread = countersRead != nil && countersElapsed == 0
        if unread && previous.pods.count == result.pods.count
            && zip(previous.pods, result.pods).allSatisfy({ $0.key == $1.key && $0.chain == $1.chain })
        {
            // The rows the collector kept (the usual case): the rated ones before, with this tick's last drops.
            let lastDrops = result.pods.map(\.lastDrop)
            result.pods = previous.pods
            for i in result.pods.indices where lastDrops[i] != nil { result.pods[i].lastDrop = lastDrops[i] }
        } else if unread {
            for i in result.pods.indices {
                guard let old = pods[result.pods[i].key], old.chain == result.pods[i].chain else { continue }
                result.pods[i].refusedPerSecond = old.refusedPerSecond
                result.pods[i].allowedPerSecond = old.allowedPerSecond
                result.pods[i].lastDrop = result.pods[i].lastDrop ?? old.lastDrop
                if old.rules.count == result.pods[i].rules.count {
                    for j in old.rules.indices { result.pods[i].rules[j].perSecond = old.rules[j].perSecond }
                }
            }
        }
        for i in result.pods.indices where countersRead == nil || countersElapsed != 0 {
            let elapsed = countersElapsed
            let pod = result.pods[i]
            // A chain that changed its name is another rule: its counters are not comparable.
            guard let old = pods[pod.key], old.chain == pod.chain else {
                result.pods[i].refusedPerSecond = nil
                result.pods[i].allowedPerSecond = nil
                continue
            }
            result.pods[i].refusedPerSecond = TopRates.rate(old.refused, pod.refused, elapsed: elapsed)
            result.pods[i].allowedPerSecond = TopRates.rate(old.allowed, pod.allowed, elapsed: elapsed)
            result.pods[i].lastDrop = pod.lastDrop ?? old.lastDrop
            // The same rules in the same order (the usual case): by position; else by text.
            if old.rules.count == pod.rules.count && zip(old.rules, pod.rules).allSatisfy({ $0.text == $1.text }) {
                for j in pod.rules.indices {
                    result.pods[i].rules[j].perSecond = TopRates.rate(
                        old.rules[j].packets, pod.rules[j].packets, elapsed: elapsed)
                }
                continue
            }
            let rules = Dictionary(old.rules.map { ($0.text, $0.packets) }, uniquingKeysWith: { a, _ in a })
            for j in result.pods[i].rules.indices {
                let rule = result.pods[i].rules[j]
                result.pods[i].rules[j].perSecond = TopRates.rate(rules[rule.text], rule.packets, elapsed: elapsed)
            }
        }
        if let watches = result.watches {
            let old = Dictionary(
                (previous.watches ?? []).map { ($0.resource, $0.events) }, uniquingKeysWith: { a, _ in a })
            result.watches = watches.map { watch in
                var watch = watch
                watch.eventsPerSecond = old[watch.resource].flatMap {
                    TopRates.rate($0, watch.events, elapsed: elapsed)
                }
                return watch
            }
        }
        if var conntrack = result.conntrack, let old = previous.conntrack {
            conntrack.insertFailedPerSecond = TopRates.rate(old.insertFailed, conntrack.insertFailed, elapsed: elapsed)
            conntrack.invalidPerSecond = TopRates.rate(old.invalid, conntrack.invalid, elapsed: elapsed)
            result.conntrack = conntrack
        }
        return result
    }
}
