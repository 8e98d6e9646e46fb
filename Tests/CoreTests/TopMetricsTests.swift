import Foundation
import Testing
import TopUI

@Suite struct TopMetricsTests {
    static let text = """
        # HELP kube_router_sync_duration_seconds How long each sync of a controller took.
        # TYPE kube_router_sync_duration_seconds histogram
        kube_router_sync_duration_seconds_bucket{controller="firewall",le="0.01"} 50
        kube_router_sync_duration_seconds_bucket{controller="firewall",le="0.1"} 98
        kube_router_sync_duration_seconds_bucket{controller="firewall",le="1.0"} 100
        kube_router_sync_duration_seconds_bucket{controller="firewall",le="+Inf"} 100
        kube_router_sync_duration_seconds_sum{controller="firewall"} 2.5
        kube_router_sync_duration_seconds_count{controller="firewall"} 100
        kube_router_syncs_total{controller="firewall",kind="full",result="failure"} 2
        kube_router_syncs_total{controller="firewall",kind="incremental",result="failure"} 1
        kube_router_syncs_total{controller="firewall",kind="full",result="success"} 97
        """

    @Test func quantilesFailuresAndTheMeanOfTheLastSyncs() {
        let metrics = TopMetrics(text: Self.text)
        let firewall = metrics.controllers["firewall"]
        #expect(firewall?.quantile(0.5) == 0.01)
        #expect(firewall?.quantile(0.99) == 1.0)
        #expect(firewall?.failures == 3)
        let controllers = [TopSnapshot.Controller(name: "firewall", syncs: 100, lastSync: nil)]
        let first = metrics.apply(to: controllers, since: nil)
        #expect(first[0].duration == 0.025 && first[0].errors == 3 && first[0].p99 == 1.0)
        var later = metrics
        later.controllers["firewall"]?.sum = 3.5
        later.controllers["firewall"]?.count = 102
        #expect(later.apply(to: controllers, since: metrics)[0].duration == 0.5)
        #expect(TopMetrics(text: "garbage {\nno_labels 3\n").controllers.isEmpty)
        #expect(TopMetrics.Controller().quantile(0.5) == nil)
    }

    /// The API watch state, per resource, from the informer metrics; its events rated between two snapshots and
    /// shown on the Health pane.
    @Test func watchesFromTheInformerMetrics() throws {
        let text = """
            kube_router_informer_synced{resource="pods"} 1
            kube_router_informer_synced{resource="networkpolicies"} 0
            kube_router_watch_events_total{resource="pods",type="ADDED"} 10
            kube_router_watch_events_total{resource="pods",type="MODIFIED"} 30
            kube_router_relists_total{resource="pods",reason="expired"} 2
            kube_router_relists_total{resource="pods",reason="error"} 0
            kube_router_api_requests_total{verb="list",code="200"} 7
            """
        let metrics = TopMetrics(text: text)
        let pods = try #require(metrics.watches["pods"])
        #expect(pods.synced && pods.events == 40 && pods.relists == 2 && pods.relistReasons == ["expired"])
        #expect(metrics.watches["networkpolicies"]?.synced == false)
        #expect(metrics.watches.count == 2 && metrics.controllers.isEmpty)

        var before = TopSnapshot(time: Date(timeIntervalSince1970: 0), node: "n", interval: 2)
        before.watches = [pods]
        var after = TopSnapshot(time: Date(timeIntervalSince1970: 2), node: "n", interval: 2)
        var more = pods
        more.events = 50
        after.watches = [more, try #require(metrics.watches["networkpolicies"])]
        let rated = after.rated(since: before)
        #expect(rated.watches?.first?.eventsPerSecond == 5)
        #expect(rated.watches?.last?.eventsPerSecond == nil)
        let rows = TopModel(snapshot: rated).table(.health).rows
        let podRow = try #require(rows.first { $0.id == "watch/pods" })
        #expect(podRow.cells.last == "synced, 5 events/s, 2 relists (expired)", "\(podRow.cells)")
        #expect(rows.first { $0.id == "watch/networkpolicies" }?.tone == .warn)
    }
}
