import Foundation
import KubeModel
import Testing

/// `Timestamp` against Foundation's `ISO8601DateFormatter` (the reference here; the agent no longer uses it, as it
/// loads ICU).
@Suite struct TimestampTests {
    @Test func formatsAndReadsAsFoundationDoesOverFourCenturies() {
        let reference = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var generator = SystemRandomNumberGenerator()
        // 1800 to 2200: leap years of every kind (1900 and 2100 are not, 2000 is), and dates before 1970.
        let times =
            [-5_364_662_400.0, 0, 951_782_400, 951_868_799, 4_107_542_400, 68_169_600]
            + (0..<2000).map { _ in Double(Int64.random(in: -5_364_662_400...7_258_118_400, using: &generator)) }
        for time in times {
            let date = Date(timeIntervalSince1970: time)
            #expect(Timestamp.string(date) == reference.string(from: date))
            #expect(Timestamp.date(reference.string(from: date)) == date)
            let withMilliseconds = Date(timeIntervalSince1970: time + 0.25)
            #expect(
                Timestamp.string(withMilliseconds, fractionalSeconds: true) == fractional.string(from: withMilliseconds)
            )
        }
    }

    @Test func readsOffsetsLowerCaseAndFractions() {
        let utc = Timestamp.date("2026-11-29T11:16:46Z")
        #expect(utc == Date(timeIntervalSince1970: 1_795_951_006))
        #expect(Timestamp.date("2026-11-29T12:16:46+01:00") == utc)
        #expect(Timestamp.date("2026-11-29T05:46:46-05:30") == utc)
        #expect(Timestamp.date("2026-11-29t11:16:46z") == utc)
        #expect(Timestamp.date("2026-11-29T11:16:46.5Z") == Date(timeIntervalSince1970: 1_795_951_006.5))
        #expect(
            Timestamp.string(Date(timeIntervalSince1970: 1_795_951_006.999), fractionalSeconds: false)
                == "2026-11-29T11:16:46Z")
        #expect(
            Timestamp.string(Date(timeIntervalSince1970: -0.5), fractionalSeconds: true) == "1969-12-31T23:59:59.500Z")
    }

    @Test(arguments: [
        "", "2026-11-29", "2026-11-29T11:16:46", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
        "2026-11-31T00:00:00Z", "2026-11-29T24:00:00Z", "2026-11-29T11:60:00Z", "2026-11-29T11:16:46.Z",
        "2026-11-29T11:16:46Zjunk", "2026-11-29T11:16:46+0100", "2026-11-29 11:16:46Z", "२०२६-11-29T11:16:46Z",
    ])
    func refusesWhatIsNotRFC3339(text: String) {
        #expect(Timestamp.date(text) == nil)
    }

    @Test func acceptsTheLeapDayOfALeapYear() {
        #expect(Timestamp.date("2024-02-29T00:00:00Z") != nil)
        #expect(Timestamp.date("2000-02-29T00:00:00Z") != nil)
        #expect(Timestamp.date("1900-02-29T00:00:00Z") == nil)
    }
}
