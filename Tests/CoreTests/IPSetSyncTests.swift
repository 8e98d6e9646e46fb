import TestSupport
import Testing

@testable import Kernel
@testable import Planning

/// The ipset sync's logic against in-memory sets: no root.
@Suite struct IPSetSyncTests {
    static func set(_ name: String, _ members: [String], type: IPSetSpec.SetType = .hashIP) -> IPSetSpec {
        IPSetSpec(name: name, type: type, members: members, comment: "")
    }

    let plan = [
        set("KUBE-SRC-A", ["10.0.0.1", "10.0.0.2"]), set("KUBE-DST-B", ["10.0.0.0/24", "10.0.1.5/32"], type: .hashNet),
    ]

    @Test func createThenNothingThenASwapForAMemberChange() throws {
        let kernel = FakeIPSets()
        let sync = IPSetSync(backend: kernel)
        var report = try sync.apply(plan)
        #expect(report.created == ["KUBE-SRC-A", "KUBE-DST-B"] && kernel.passCount == 1)
        // The kernel prints a host prefix of hash:net bare: still the same set.
        kernel.set(Self.set("KUBE-DST-B", ["10.0.0.0/24", "10.0.1.5"], type: .hashNet))
        report = try sync.apply(plan)
        #expect(report.unchanged == 2 && report.created.isEmpty && report.swapped.isEmpty && kernel.passCount == 1)
        var next = plan
        next[0].members = ["10.0.0.1", "10.0.0.3"]
        report = try sync.apply(next, previous: plan)
        #expect(report.swapped == ["KUBE-SRC-A"] && report.unchanged == 1)
        #expect(kernel.all["KUBE-SRC-A"]?.members == ["10.0.0.1", "10.0.0.3"])
        #expect(kernel.all.keys.allSatisfy { !$0.hasPrefix("KR-TMP-") }, "no scratch set is left")
    }

    @Test func fullSyncRepairsDriftAndStaleSetsGoOnlyWhenUnused() throws {
        let kernel = FakeIPSets()
        let sync = IPSetSync(backend: kernel)
        _ = try sync.apply(plan)
        kernel.set(Self.set("KUBE-SRC-A", ["10.0.0.1"]))  // a member removed by hand
        kernel.set(Self.set("KUBE-SRC-OLD", ["10.0.0.9"]))
        kernel.set(Self.set("other-set", ["192.0.2.1"]))  // not ours
        #expect(try sync.apply(plan, previous: plan).swapped.isEmpty, "an event sync trusts what it applied")
        let report = try sync.apply(plan)
        #expect(report.swapped == ["KUBE-SRC-A"] && kernel.all["KUBE-SRC-A"]?.members == ["10.0.0.1", "10.0.0.2"])
        kernel.referenced = ["KUBE-SRC-OLD"]
        #expect(throws: FakeIPSets.Failure.self) {
            try sync.removeStale(keeping: Set(plan.map(\.name)), among: report.before)
        }
        kernel.referenced = []
        #expect(try sync.removeStale(keeping: Set(plan.map(\.name))) == ["KUBE-SRC-OLD"])
        #expect(kernel.all["other-set"] != nil, "others' sets stay")
    }

    @Test func aTypeChangeReplacesTheSetAndALeftoverScratchSetIsCleared() throws {
        let kernel = FakeIPSets()
        let sync = IPSetSync(backend: kernel)
        _ = try sync.apply(plan)
        let temporary = "KR-TMP-" + FirewallNames.hash("KUBE-SRC-A")
        kernel.set(Self.set(temporary, ["junk"]))
        let changed = [Self.set("KUBE-SRC-A", ["10.0.0.0/8"], type: .hashNet), plan[1]]
        let changes = IPSetDiff.changes(
            desired: changed, actual: try kernel.list(prefixes: IPSetSync.ownedPrefixes),
            temporaryPrefix: "KR-TMP-")
        #expect(changes == [.refill(changed[0], temporary: temporary, sameType: false, temporaryExists: true)])
        _ = try sync.apply(changed)
        #expect(kernel.all["KUBE-SRC-A"]?.type == .hashNet && kernel.all[temporary] == nil)
        #expect(
            IPSetDiff.restoreScript(changes).hasPrefix(
                "destroy \(temporary)\ncreate \(temporary) hash:net family inet -exist\n"))
    }
}
