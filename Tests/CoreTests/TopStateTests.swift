import Testing
import TopUI

/// The key state machine, without a terminal.
@Suite struct TopStateTests {
    let rows = ["a", "b", "c", "d", "e"]

    @Test func digitsTabAndArrowsSwitchPanes() {
        var state = TopState()
        #expect(state.pane == .overview)
        state.handle(.character("3"))
        #expect(state.pane == .policy)
        state.handle(.tab)
        #expect(state.pane == .drops)
        state.handle(.right)
        state.handle(.right)
        #expect(state.pane == .health)
        state.handle(.tab)
        #expect(state.pane == .overview)
        state.handle(.backTab)
        #expect(state.pane == .health)
        state.handle(.left)
        #expect(state.pane == .bgp)
        state.handle(.character("7"))
        #expect(state.pane == .bgp)
    }

    @Test func movementKeysClampToTheRows() {
        var state = TopState(pane: .services)
        #expect(state.selected(in: rows) == "a")
        state.handle(.character("j"), rows: rows)
        state.handle(.down, rows: rows)
        #expect(state.selected(in: rows) == "c")
        state.handle(.character("k"), rows: rows)
        #expect(state.selected(in: rows) == "b")
        state.handle(.character("G"), rows: rows)
        #expect(state.selected(in: rows) == "e")
        state.handle(.down, rows: rows)
        #expect(state.selected(in: rows) == "e")
        state.handle(.character("g"), rows: rows)
        state.handle(.up, rows: rows)
        #expect(state.selected(in: rows) == "a")
        state.handle(.pageDown, rows: rows, page: 3)
        #expect(state.selected(in: rows) == "d")
        state.handle(.pageDown, rows: rows, page: 3)
        #expect(state.selected(in: rows) == "e")
        state.handle(.pageUp, rows: rows, page: 3)
        #expect(state.selected(in: rows) == "b")
        state.handle(.end, rows: rows)
        state.handle(.home, rows: rows)
        #expect(state.selected(in: rows) == "a")
        #expect(TopState().selected(in: []) == nil)
    }

    @Test func theSelectionFollowsItsRowNotItsIndex() {
        var state = TopState(pane: .services)
        state.handle(.down, rows: rows)
        #expect(state.selected(in: rows) == "b")
        // Re-sorted: b moved to the end; still selected.
        #expect(state.selected(in: ["e", "d", "c", "a", "b"]) == "b")
        #expect(state.selectedIndex(in: ["e", "d", "c", "a", "b"]) == 4)
        // Moving goes on from where the row is now.
        state.handle(.up, rows: ["e", "d", "c", "a", "b"])
        #expect(state.selected(in: rows) == "a")
        // The row went away: the selection stays at its place.
        state.handle(.character("G"), rows: rows)
        state.handle(.up, rows: rows)
        #expect(state.selected(in: ["a", "b", "c", "e"]) == "e")
        #expect(state.selected(in: ["a"]) == "a")
    }

    @Test func eachPaneKeepsItsOwnSelection() {
        var state = TopState(pane: .services)
        state.handle(.down, rows: rows)
        state.handle(.character("3"))
        #expect(state.selected(in: rows) == "a")
        state.handle(.character("2"))
        #expect(state.selected(in: rows) == "b")
    }

    @Test func slashTypesAFilterEnterKeepsItEscCancels() {
        var state = TopState(pane: .services)
        for key in [
            TopKey.character("/"), .character("a"), .character("p"), .character("x"), .backspace,
            .character("i"), .enter,
        ] {
            state.handle(key)
        }
        #expect(state.filter == "api")
        #expect(state.filterDraft == nil)
        // q while typing is text, not quit.
        state.handle(.character("/"))
        #expect(state.handle(.character("q")) == .none)
        #expect(state.filter == "apiq")
        state.handle(.escape)
        #expect(state.filter == "api")
        // Esc outside the prompt clears the filter.
        state.handle(.escape)
        #expect(state.filter == "")
    }

    @Test func filterIsASubstringAndBangInvertsIt() {
        let table = TopTable(
            title: "t", columns: [.init("NAME", 10), .init("N", 4, numeric: true)],
            rows: [
                .init(id: "1", cells: ["shop/api", "3"], sort: [.text("shop/api"), .number(3)]),
                .init(id: "2", cells: ["shop/db", "10"], sort: [.text("shop/db"), .number(10)]),
                .init(id: "3", cells: ["kube-system/dns", "1"], sort: [.text("kube-system/dns"), .number(1)]),
            ], empty: "")
        #expect(table.visible(filter: "SHOP", sort: .init()).map(\.id) == ["1", "2"])
        #expect(table.visible(filter: "!shop", sort: .init()).map(\.id) == ["3"])
        #expect(table.visible(filter: "", sort: .init(column: 1)).map(\.id) == ["2", "1", "3"])
        #expect(table.visible(filter: "", sort: .init(column: 1, inverted: true)).map(\.id) == ["3", "1", "2"])
        #expect(table.visible(filter: "", sort: .init(column: 0)).map(\.id) == ["3", "1", "2"])
        #expect(table.visible(filter: "", sort: .init(column: nil, inverted: true)).map(\.id) == ["3", "2", "1"])
    }

    @Test func sCyclesTheSortColumnAndIInvertsIt() {
        var state = TopState(pane: .services)
        state.handle(.character("s"), columns: 2)
        #expect(state.sort == .init(column: 0))
        state.handle(.character("s"), columns: 2)
        #expect(state.sort == .init(column: 1))
        state.handle(.character("I"), columns: 2)
        #expect(state.sort == .init(column: 1, inverted: true))
        state.handle(.character("s"), columns: 2)
        #expect(state.sort == .init(column: nil, inverted: true))
        state.handle(.character("3"))
        #expect(state.sort == .init())
    }

    @Test func enterDrillsInWhereItCanAndEscGoesBack() {
        var state = TopState(pane: .services)
        state.handle(.down, rows: rows)
        state.handle(.enter, rows: rows, drillable: false)
        #expect(state.drill == nil)
        state.handle(.enter, rows: rows, drillable: true)
        #expect(state.drill == "b")
        #expect(state.scope == "services>b")
        // The drilled view has its own selection.
        #expect(state.selected(in: ["x", "y"]) == "x")
        state.handle(.escape)
        #expect(state.drill == nil)
        #expect(state.selected(in: rows) == "b")
    }

    @Test func spacePausesPlusAndMinusChangeTheInterval() {
        var state = TopState(interval: 2)
        state.handle(.character(" "))
        #expect(state.paused)
        state.handle(.character(" "))
        #expect(!state.paused)
        #expect(state.handle(.character("+")) == .intervalChanged)
        #expect(state.interval == 5)
        state.handle(.character("-"))
        state.handle(.character("-"))
        state.handle(.character("-"))
        #expect(state.interval == 0.5)
        #expect(state.handle(.character("-")) == .none)
        #expect(state.interval == 0.5)
    }

    @Test func overlaysOpenAndCloseAndQQuits() {
        var state = TopState(pane: .services)
        state.handle(.character("?"))
        #expect(state.overlay == .help)
        #expect(state.handle(.character("q")) == .none)
        #expect(state.overlay == nil)
        state.handle(.character("e"), rows: rows)
        #expect(state.overlay == .explain)
        state.handle(.escape)
        state.handle(.character("e"), rows: [])
        #expect(state.overlay == nil)
        state.handle(.character("c"))
        #expect(state.overlay == .command)
        state.handle(.enter)
        #expect(state.handle(.resize) == .none)
        #expect(state.handle(.character("q")) == .quit)
    }
}
