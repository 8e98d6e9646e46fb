import Foundation
import TestSupport
import Testing
import TopUI

/// The dashboard keeps a pane's table between frames: built again only for a new snapshot or another view,
/// and the same frame as building it anew, ages included.
@Suite struct TopTableCacheTests {
    @Test func aTableIsBuiltOncePerSnapshotAndView() {
        let snapshots = TopSamples.snapshots()
        let tables = TopTableCache()
        let renderer = TopRenderer()
        var state = TopState(pane: .services)
        for second in 0..<3 {
            let model = TopModel(snapshot: snapshots[1], now: snapshots[1].time.addingTimeInterval(Double(second)))
            let kept = renderer.render(model, state, width: 120, height: 40, tables: tables)
            #expect(kept == renderer.render(model, state, width: 120, height: 40))
        }
        #expect(tables.builds == 1)
        _ = tables.visible(TopModel(snapshot: snapshots[2]), state)
        #expect(tables.builds == 2)
        state.filters[state.scope] = "shop"
        let filtered = tables.visible(TopModel(snapshot: snapshots[2]), state)
        #expect(tables.builds == 3)
        #expect(!filtered.rows.isEmpty && filtered.rows.allSatisfy { $0.cells.joined().contains("shop") })
        state.sorts[state.scope] = .init(column: 0, inverted: true)
        _ = tables.visible(TopModel(snapshot: snapshots[2]), state)
        #expect(tables.builds == 4)
    }

    @Test func agesAreCountedForEachFrameWithoutBuildingTheTableAgain() throws {
        let snapshot = TopSamples.snapshots()[1]
        let tables = TopTableCache()
        let state = TopState(pane: .policy)
        let api = try #require(snapshot.pods.first { $0.lastDrop != nil })
        for later in [0.0, 5, 125] {
            let model = TopModel(snapshot: snapshot, now: snapshot.time.addingTimeInterval(later))
            let row = try #require(tables.visible(model, state).rows.first { $0.id == api.id })
            let fresh = try #require(model.table(.policy).rows.first { $0.id == api.id })
            #expect(row.cells == fresh.cells)
            #expect(row.cells[7] == TopText.age(later + snapshot.time.timeIntervalSince(api.lastDrop!)) + " ago")
        }
        #expect(tables.builds == 1)
        // The Health pane's ages are in its text: built again when the second changes.
        let health = TopState(pane: .health)
        _ = tables.visible(TopModel(snapshot: snapshot, now: snapshot.time), health)
        _ = tables.visible(TopModel(snapshot: snapshot, now: snapshot.time.addingTimeInterval(0.4)), health)
        _ = tables.visible(TopModel(snapshot: snapshot, now: snapshot.time.addingTimeInterval(1)), health)
        #expect(tables.builds == 3)
    }
}
