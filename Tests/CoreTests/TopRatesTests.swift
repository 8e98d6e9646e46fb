import Foundation
import TestSupport
import Testing
import TopUI

@Suite struct TopRatesTests {
    @Test func rateIsTheDeltaOverTheElapsedTime() {
        #expect(TopRates.rate(100.0, 300.0, elapsed: 2) == 100)
        #expect(TopRates.rate(UInt64(7), UInt64(7), elapsed: 2) == 0)
    }

    @Test func aCounterThatWentDownWasResetAndCountsFromZero() {
        #expect(TopRates.rate(500.0, 40.0, elapsed: 2) == 20)
        #expect(TopRates.rate(UInt64.max - 1, UInt64(10), elapsed: 5) == 2)
    }

    @Test func noRateWithoutTimeOrAPreviousReading() {
        #expect(TopRates.rate(100.0, 300.0, elapsed: 0) == nil)
        #expect(TopRates.rate(100.0, 300.0, elapsed: -1) == nil)
        #expect(TopRates.rate(100.0, 300.0, elapsed: .infinity) == nil)
        #expect(TopRates.rate(nil as Double?, 300.0, elapsed: 2) == nil)
        #expect(TopRates.rate(UInt64(1), nil, elapsed: 2) == nil)
        let first = TopSamples.snapshot(0)
        let again = first.rated(since: first)
        #expect(again.elapsed == 0)
        #expect(again.services.allSatisfy { $0.rates == nil })
        #expect(again.pods.allSatisfy { $0.refusedPerSecond == nil })
    }

    @Test func objectsAreMatchedByIdentityNotPosition() {
        var before = TopSamples.snapshot(0)
        before.services.reverse()
        before.pods.reverse()
        let after = TopSamples.snapshot(1).rated(since: before)
        #expect(after.elapsed == 2)
        let dns = after.services.first { $0.key == "TCP 10.96.0.10:53" }
        #expect(dns?.rates?.connections == 20)
        #expect(dns?.rates?.bytesIn == 30000)
        #expect(dns?.servers.first?.rates?.connections == 10)
        let api = after.pods.first { $0.pod == "shop/api" }
        #expect(api?.refusedPerSecond == 5)
        #expect(api?.allowedPerSecond == 50)
        #expect(api?.rules.last?.perSecond == 5)
        #expect(after.conntrack?.invalidPerSecond == 0.5)
        #expect(after.dropsPerSecond == 5)
    }

    /// A chain's rules keep their rates when the chain is reordered (matched by text), as when it is not.
    @Test func ruleRatesFollowTheRuleNotItsPosition() throws {
        let before = TopSamples.snapshot(0)
        var later = TopSamples.snapshot(1)
        let inOrder = later.rated(since: before)
        later.pods[0].rules.reverse()
        let reordered = later.rated(since: before)
        let api = try #require(inOrder.pods.first { $0.pod == "shop/api" })
        let apiReordered = try #require(reordered.pods.first { $0.pod == "shop/api" })
        #expect(api.rules.count > 1)
        for rule in api.rules {
            #expect(apiReordered.rules.first { $0.text == rule.text }?.perSecond == rule.perSecond, "\(rule.text)")
        }
    }

    @Test func collectionCostsRoundTripAndShowOnTheHealthPane() throws {
        var snapshot = TopSamples.snapshot(1)
        snapshot.collection = ["firewall": 12.5, "ipvs": 3.25, "bgp": 0.5, "health": 0.25]
        let read = try TopRecording.read(try TopRecording.line(snapshot), file: "one.jsonl")
        #expect(read.first?.collection == snapshot.collection)
        let row = try #require(TopModel(snapshot: snapshot).table(.health).rows.first { $0.id == "krctl/collection" })
        #expect(row.cells[0] == "krctl top" && row.cells[2] == "17ms")
        #expect(row.cells.last == "CPU per tick: firewall 12.5ms, ipvs 3.2ms, bgp 0.5ms", "\(row.cells)")
        // Older recordings have no such field: no row.
        let older = TopModel(snapshot: TopSamples.snapshot(1)).table(.health).rows
        #expect(older.allSatisfy { $0.id != "krctl/collection" })
    }

    /// At scale the firewall's counters are read every few ticks: a tick that did not read them keeps the
    /// rates of the last read (the window stays that read's), and the next read's rates are over the whole time
    /// since the one before, not over one tick.
    @Test func countersNotReadAgainKeepTheirRatesAndTheNextReadSpansTheGap() throws {
        var first = TopSamples.snapshot(0)
        first.countersRead = first.time
        var second = TopSamples.snapshot(1)
        second.countersRead = second.time
        let rated = second.rated(since: first)
        let api = try #require(rated.pods.first { $0.pod == "shop/api" })
        #expect(api.refusedPerSecond == 5)
        // The next tick, 2 s later: the collector kept the pods of the read before (counters and read time).
        var third = TopSamples.snapshot(2)
        third.pods = second.pods
        third.countersRead = second.countersRead
        let kept = third.rated(since: rated)
        #expect(kept.elapsed == 2)
        #expect(kept.pods.map(\.refusedPerSecond) == rated.pods.map(\.refusedPerSecond))
        #expect(kept.pods.map(\.allowedPerSecond) == rated.pods.map(\.allowedPerSecond))
        #expect(kept.pods.flatMap { $0.rules.map(\.perSecond) } == rated.pods.flatMap { $0.rules.map(\.perSecond) })
        #expect(kept.dropsPerSecond == rated.dropsPerSecond)
        // Read again 4 s after the last read: 20 more refused packets over 4 s, not over the 2 s tick.
        var fourth = TopSamples.snapshot(3)
        fourth.countersRead = fourth.time
        for i in fourth.pods.indices { fourth.pods[i].refused = second.pods[i].refused.map { $0 + 20 } }
        let reread = fourth.rated(since: kept)
        #expect(reread.pods.allSatisfy { $0.refused == nil || $0.refusedPerSecond == 5 }, "\(reread.pods)")
    }

    @Test func aCostlySourceIsReadEveryFewWholeTicks() {
        // Within 1% of a core: a 10 ms read fits a 2 s tick (20 ms); a 50 ms one needs 5 s, so every 3 ticks.
        #expect(TopRates.period(cost: 10, interval: 2, budget: 0.01) == 2)
        #expect(TopRates.period(cost: 50, interval: 2, budget: 0.01) == 6)
        #expect(TopRates.period(cost: 50, interval: 10, budget: 0.01) == 10)
        #expect(TopRates.period(cost: 0, interval: 2, budget: 0.01) == 2)
        #expect(TopRates.period(cost: .nan, interval: 2, budget: 0.01) == 2)
        var snapshot = TopSamples.snapshot(1)
        snapshot.countersEvery = 6
        snapshot.collection = ["firewall counters": 50]
        let model = TopModel(snapshot: snapshot)
        #expect(model.table(.policy).title == "Policy (counters every 6s)")
        let row = model.table(.health).rows.first { $0.id == "krctl/collection" }
        #expect(row?.cells.last?.hasPrefix("firewall counters every 6s; CPU per tick") == true, "\(row?.cells ?? [])")
    }

    @Test func aChainThatChangedIdentityHasNoRateYet() {
        var before = TopSamples.snapshot(0)
        before.pods[0].chain = "KUBE-POD-FW-OLD"
        let after = TopSamples.snapshot(1).rated(since: before)
        #expect(after.pods[0].refusedPerSecond == nil)
        #expect(after.pods[1].refusedPerSecond == 0)
    }

    @Test func newObjectsHaveNoRateYet() {
        var before = TopSamples.snapshot(0)
        before.services.removeFirst()
        let after = TopSamples.snapshot(1).rated(since: before)
        #expect(after.services[0].rates == nil)
        #expect(after.services[1].rates?.connections == 150)
    }

    @Test func recordingsRoundTripWithTheirVersion() throws {
        let snapshots = TopSamples.snapshots()
        let text = try snapshots.map(TopRecording.line).joined(separator: "\n")
        #expect(text.contains("\"apiVersion\":\"krctl/v1\""))
        #expect(text.contains("\"kind\":\"TopSnapshot\""))
        let read = try TopRecording.read(text, file: "demo.jsonl")
        #expect(read == snapshots)
        let other = text.replacingOccurrences(of: "krctl/v1", with: "krctl/v9")
        #expect(throws: TopRecording.Failure.self) { try TopRecording.read(other, file: "old.jsonl") }
        #expect(throws: TopRecording.Failure.self) { try TopRecording.read("{}\n", file: "bad.jsonl") }
        #expect(throws: TopRecording.Failure.self) { try TopRecording.read("", file: "empty.jsonl") }
    }

    /// examples/top-demo.jsonl is these samples (`--replay` it for a demo); KR_UPDATE_GOLDEN=1 rewrites it.
    @Test func demoRecordingIsTheSamples() throws {
        let path = repositoryRoot.appendingPathComponent("examples/top-demo.jsonl").path
        let text = try TopSamples.snapshots(count: 6).map(TopRecording.line).joined(separator: "\n") + "\n"
        if ProcessInfo.processInfo.environment["KR_UPDATE_GOLDEN"] == "1" {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        #expect((try? String(contentsOfFile: path, encoding: .utf8)) == text)
    }

    @Test func historyMakesSparklines() {
        var history = TopHistory()
        for s in TopSamples.snapshots(count: 4) { history.append(s) }
        #expect(history.series(.drops) == [0, 5, 5, 5])
        #expect(TopHistory.sparkline([0, 1, 2, 3, 4, 5, 6, 7], width: 8, ascii: false) == "▁▂▃▄▅▆▇█")
        #expect(TopHistory.sparkline([0, 7], width: 8, ascii: true) == " #")
        #expect(TopHistory.sparkline([3, 3, 3], width: 2, ascii: false) == "▅▅")
        #expect(TopHistory.sparkline([1, 2], width: 0, ascii: false) == "")
    }
}
