import KubeModel
import Testing

@Suite struct GoDurationTests {
    @Test(arguments: [
        ("5m", 300.0), ("90s", 90), ("1h30m", 5400), ("250ms", 0.25), ("1.5s", 1.5), ("0", 0), ("2h", 7200),
        ("1m0s", 60),
    ])
    func parses(_ text: String, _ seconds: Double) {
        #expect(GoDuration.seconds(text) == seconds)
    }

    @Test(arguments: ["", "5", "m", "5x", "5 m", "-5m", "1h30"])  // negative periods are never meaningful here
    func rejects(_ text: String) {
        #expect(GoDuration.seconds(text) == nil)
    }
}
