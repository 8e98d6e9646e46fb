import Foundation
import TestSupport
import Testing
import TopUI

/// Snapshots to frames: golden text at 80×24, 120×40 and 60×16, attributes, truncation by display width,
/// every size down to 1×1. KR_UPDATE_GOLDEN=1 rewrites the golden files (Tests/CoreTests/Fixtures/top).
@Suite struct TopRenderTests {
    let snapshots = TopSamples.snapshots()

    var model: TopModel {
        var history = TopHistory()
        for s in snapshots { history.append(s) }
        return TopModel(snapshot: snapshots[2], history: history)
    }

    func frame(
        _ pane: TopPane, _ width: Int, _ height: Int, state: TopState? = nil, renderer: TopRenderer = .init()
    )
        -> TopGrid
    {
        var s = state ?? TopState(pane: pane)
        s.pane = pane
        return renderer.render(model, s, width: width, height: height)
    }

    func golden(_ name: String, _ grid: TopGrid) {
        let path = repositoryRoot.appendingPathComponent("Tests/CoreTests/Fixtures/top/\(name).txt").path
        let text = grid.text + "\n"
        if ProcessInfo.processInfo.environment["KR_UPDATE_GOLDEN"] == "1" {
            try? text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let expected = try? String(contentsOfFile: path, encoding: .utf8)
        #expect(expected == text, "\(name):\n\(text)")
    }

    @Test(arguments: TopPane.allCases)
    func paneAt80x24(_ pane: TopPane) {
        golden("\(pane.rawValue)-80x24", frame(pane, 80, 24))
    }

    @Test func servicesAt120x40AndAt60x16() {
        golden("services-120x40", frame(.services, 120, 40))
        golden("services-60x16", frame(.services, 60, 16))
        golden("overview-60x16", frame(.overview, 60, 16))
        golden("policy-40x12", frame(.policy, 40, 12))
    }

    @Test func drilledFilteredAndOverlaid() {
        var state = TopState(pane: .services)
        let ids = model.table(.services).visible(filter: "", sort: .init()).map(\.id)
        state.handle(.down, rows: ids)
        state.handle(.enter, rows: ids, drillable: true)
        golden("services-drill-80x24", frame(.services, 80, 24, state: state))
        var filtered = TopState(pane: .services)
        for key in [TopKey.character("/"), .character("s"), .character("h"), .character("o"), .character("p")] {
            filtered.handle(key)
        }
        golden("services-filtering-80x24", frame(.services, 80, 24, state: filtered))
        var help = TopState(pane: .bgp)
        help.handle(.character("?"))
        golden("bgp-help-80x24", frame(.bgp, 80, 24, state: help))
    }

    @Test func everySizeDrawsWithinItsBounds() {
        for width in [0, 1, 2, 5, 10, 20, 39, 40, 49, 50, 59, 60, 79, 80, 100, 120, 200] {
            for height in [0, 1, 2, 3, 4, 5, 8, 12, 15, 16, 24, 40, 60] {
                for pane in TopPane.allCases {
                    let grid = frame(pane, width, height)
                    #expect(grid.width == width && grid.height == height)
                    for row in 0..<height {
                        #expect(TopText.width(grid.line(row)) == width, "\(pane) \(width)x\(height) row \(row)")
                    }
                }
            }
        }
    }

    @Test func wideCharactersAreCutByColumnsNotCharacters() {
        #expect(TopText.width("商店/目录") == 9)
        #expect(TopText.truncate("商店/目录:80/TCP", 6) == "商店/…")
        #expect(TopText.width(TopText.truncate("商店商店商店", 5)) <= 5)
        #expect(TopText.fit("商店", 5) == "商店 ")
        #expect(TopText.fit("12", 5, right: true) == "   12")
        #expect(TopText.width("e\u{301}") == 1)
        var grid = TopGrid(width: 5, height: 1)
        #expect(grid.put("商店商", row: 0, column: 0) == 4)
        #expect(grid.cells[0].map(\.text) == ["商", "", "店", "", " "])
        let services = frame(.services, 80, 24)
        let row = (0..<24).first { services.line($0).contains("商店") }
        #expect(row != nil)
        if let row { #expect(TopText.width(services.line(row)) == 80) }
    }

    @Test func controlCharactersFromNamesAreEscaped() {
        let grid = frame(.services, 120, 40)
        #expect(!grid.text.unicodeScalars.contains { $0.value == 0x1B })
        #expect(grid.text.contains("shop/evil\\x1b[31m"))
    }

    @Test func attributesMarkSelectionStatesAndHeader() {
        let grid = frame(.services, 80, 24)
        #expect(grid.attributes(row: 0, column: 0).contains(.bold))
        let selected = (0..<24).first { grid.line($0).contains("kube-system/kube-dns") }!
        #expect(grid.attributes(row: selected, column: 3).contains(.reverse))
        let noEndpoints = (0..<24).first { grid.line($0).contains("NO-ENDPOINTS") }!
        #expect(grid.attributes(row: noEndpoints, column: 3).contains(.yellow))
        #expect(!grid.attributes(row: noEndpoints, column: 3).contains(.reverse))
        let plain = frame(.services, 80, 24, renderer: TopRenderer(color: false))
        for row in 0..<24 {
            for column in 0..<80 {
                #expect(plain.attributes(row: row, column: column).isDisjoint(with: TopAttributes.colors))
            }
        }
        #expect(plain.attributes(row: selected, column: 3).contains(.reverse))
        #expect(plain.text == grid.text)
    }

    @Test func asciiModeDrawsNoBoxOrBlockCharacters() {
        var state = TopState()
        state.handle(.character("?"))
        let grid = frame(.overview, 80, 24, state: state, renderer: TopRenderer(ascii: true))
        let drawn = grid.text.replacingOccurrences(of: "商店", with: "").replacingOccurrences(of: "目录", with: "")
        #expect(drawn.unicodeScalars.allSatisfy { $0.isASCII || "↑↓⏎".unicodeScalars.contains($0) })
        #expect(grid.text.contains("+"))
    }

    @Test func headerSaysPausedAndStale() {
        var state = TopState(pane: .overview)
        state.handle(.character(" "))
        let paused = frame(.overview, 100, 24, state: state)
        #expect(paused.line(0).contains("PAUSED"))
        #expect(!paused.line(0).contains("STALE"))
        let late = TopModel(snapshot: snapshots[2], now: snapshots[2].time.addingTimeInterval(60))
        #expect(late.stale)
        let grid = TopRenderer().render(late, TopState(), width: 100, height: 24)
        #expect(grid.line(0).contains("STALE"))
    }

    @Test func servicesPaneSaysWhenTheKernelHasNoIPVS() {
        var snapshot = TopSamples.snapshot(0)
        snapshot.services = []
        snapshot.sources = [
            .init(name: "ipvs", state: .unavailable, message: "IPVS is not available on this kernel")
        ]
        let grid = TopRenderer().render(TopModel(snapshot: snapshot), TopState(pane: .services), width: 80, height: 24)
        #expect(grid.text.contains("IPVS: IPVS is not available on this kernel"))
        let overview = TopRenderer().render(TopModel(snapshot: snapshot), TopState(), width: 80, height: 24)
        #expect(overview.text.contains("IPVS is not available"))
    }

    @Test func focusNarrowsThePanesAndShowsThePath() {
        let focused = TopModel(snapshot: snapshots[2], focus: .service("shop/web"))
        #expect(focused.table(.services).rows.map(\.id) == ["TCP 10.96.12.7:80", "TCP 192.168.1.10:30080"])
        #expect(focused.focusPath.first?.contains("IPVS rr") == true)
        // shop/web's endpoints: two on this node, one on node-b through the BGP route in the kernel.
        #expect(
            focused.focusPath.first?.contains(
                "local bridge ×2, via 192.168.1.2 (BGP 10.244.1.0/24, in the kernel) → policy at endpoints") == true,
            "\(focused.focusPath)")
        let remote = TopModel(snapshot: snapshots[2], focus: .pod("shop/web-3"))
        #expect(
            remote.focusPath.first?.contains("→ via 192.168.1.2 (BGP 10.244.1.0/24, in the kernel) → shop/web-3")
                == true)
        #expect(
            model.route(to: "10.244.2.7:80", node: "node-c") == "via 192.168.1.2 (BGP 10.244.2.0/24, NOT in the kernel)"
        )
        #expect(model.route(to: "10.9.9.9", node: "node-d") == "no BGP route to 10.9.9.9 (on node-d)")
        #expect(model.route(to: "10.244.0.7:8080", node: "node-a") == "local bridge")
        let pod = TopModel(snapshot: snapshots[2], focus: .pod("shop/api"))
        #expect(pod.table(.policy).rows.map(\.id) == ["shop/api|ingress|IPv4"])
        #expect(pod.table(.drops).rows.count == 1)
        let grid = TopRenderer().render(pod, TopState(pane: .policy), width: 80, height: 24)
        #expect(grid.line(2).contains("shop/api: ingress 5 refused/s"))
        #expect(pod.focusPath.first?.contains("→ local bridge → shop/api") == true)
    }

    @Test func commandsAndExplanationsForTheSelection() {
        #expect(model.command(.services, "UDP 10.96.0.10:53") == "krctl ipvs")
        #expect(model.command(.services, "TCP 10.96.0.10:53") == "ipvsadm -Ln -t 10.96.0.10:53 --stats")
        #expect(model.command(.policy, "shop/api|ingress|IPv4").hasPrefix("iptables -nvxL KUBE-POD-FW-API"))
        let drop = model.table(.drops).rows.last!.id
        let explanation = model.explain(.drops, drop)
        #expect(explanation.contains("Why: no ingress rule of shop/api allows TCP/9000 from shop/db"))
        #expect(explanation.contains("    matchLabels: {app: \"api\"}"), "the suggested policy as YAML")
    }

    /// A large node: 2,000 virtual services of 3 endpoints, 4,000 pod chain directions, 200 drops: the rates,
    /// the tables (sorted by a column) and a frame, per tick (printed; debug builds).
    @Test func aLargeNodeIsCheapPerTick() {
        func large(_ i: Int) -> TopSnapshot {
            var s = TopSamples.snapshot(i)
            s.services = (0..<2000).map { n in
                TopSnapshot.Service(
                    key: "TCP 10.96.\(n / 250).\(n % 250):80", name: "ns\(n % 40)/svc-\(n):80/TCP", type: "clusterIP",
                    scheduler: "rr", state: .ok, counters: .init(connections: Double(n * 10 + i * n)),
                    servers: (0..<3).map { e in
                        TopSnapshot.Server(
                            address: "10.244.\(n / 250).\(e):8080", weight: 1, active: e, inactive: 0,
                            counters: .init(connections: Double(n + i)))
                    })
            }
            s.pods = (0..<4000).map { n in
                TopSnapshot.PodDirection(
                    pod: "ns\(n % 40)/pod-\(n / 2)", direction: n % 2 == 0 ? "ingress" : "egress", family: "IPv4",
                    chain: "KUBE-POD-FW-\(n / 2)", policies: ["ns\(n % 40)/p"], refused: UInt64(n * (i + 1)))
            }
            s.drops = Array(repeating: s.drops, count: 100).flatMap { $0 }
            return s
        }
        let (a, b) = (large(0), large(1))
        let start = Date()
        var history = TopHistory()
        let rated = b.rated(since: a)
        history.append(rated)
        let model = TopModel(snapshot: rated, history: history)
        var state = TopState(pane: .services)
        state.handle(.character("s"), columns: 14)
        for pane in TopPane.allCases {
            state.pane = pane
            _ = TopRenderer().render(model, state, width: 120, height: 40)
        }
        let seconds = Date().timeIntervalSince(start)
        print("krctl top tick at 2,000 services, 4,000 pod directions: \(String(format: "%.1f", seconds * 1000)) ms")
        #expect(rated.services[1999].rates?.connections == 999.5)
        #expect(seconds < 5)
    }

    /// The cost of a frame: the model's tables and the renderer at 80×24 and 200×60 (printed; debug builds).
    @Test func framesAreCheap() {
        for (width, height) in [(80, 24), (200, 60)] {
            let start = Date()
            let frames = 200
            for i in 0..<frames { _ = frame(TopPane.allCases[i % 6], width, height) }
            let each = Date().timeIntervalSince(start) / Double(frames)
            print("krctl top frame at \(width)x\(height): \(String(format: "%.2f", each * 1000)) ms")
            #expect(each < 0.1)
        }
    }
}
