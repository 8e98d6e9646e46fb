import Testing

@testable import KubeModel

@Suite struct SelectorTests {
    let labels = ["app": "web", "tier": "front"]

    @Test func emptySelectorMatchesEverything() {
        #expect(LabelSelector.everything.matches([:]))
        #expect(LabelSelector.everything.matches(labels))
    }

    @Test func matchLabelsNeedsEveryPair() {
        #expect(LabelSelector(matchLabels: ["app": "web"]).matches(labels))
        #expect(!LabelSelector(matchLabels: ["app": "web", "tier": "back"]).matches(labels))
    }

    @Test func operators() {
        typealias R = LabelSelector.Requirement
        #expect(R(key: "app", op: .in, values: ["web", "api"]).matches(labels))
        #expect(!R(key: "app", op: .in, values: ["api"]).matches(labels))
        #expect(!R(key: "missing", op: .in, values: ["x"]).matches(labels))
        #expect(R(key: "app", op: .notIn, values: ["api"]).matches(labels))
        #expect(!R(key: "app", op: .notIn, values: ["web"]).matches(labels))
        #expect(R(key: "missing", op: .notIn, values: ["x"]).matches(labels), "NotIn holds when the key is absent")
        #expect(R(key: "tier", op: .exists).matches(labels))
        #expect(!R(key: "missing", op: .exists).matches(labels))
        #expect(R(key: "missing", op: .doesNotExist).matches(labels))
        #expect(!R(key: "app", op: .doesNotExist).matches(labels))
    }

    @Test func labelsAndExpressionsAreANDed() {
        let s = LabelSelector(
            matchLabels: ["app": "web"],
            matchExpressions: [.init(key: "tier", op: .in, values: ["back"])])
        #expect(!s.matches(labels))
        #expect(s.description == "app=web,tier in (back)")
    }

    @Test func labelSelectorStrings() throws {
        let s = try #require(LabelSelector(parsing: "app=web,tier!=db,env in (a, b),!legacy,owner"))
        #expect(s.matches(["app": "web", "env": "a", "owner": "x"]))
        #expect(!s.matches(["app": "web", "env": "a", "owner": "x", "legacy": "1"]))
        #expect(!s.matches(["app": "web", "env": "c", "owner": "x"]))
        #expect(!s.matches(["app": "web", "env": "a", "owner": "x", "tier": "db"]))
        #expect(LabelSelector(parsing: "env in ()") == nil)
    }
}
