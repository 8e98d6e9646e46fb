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
}
