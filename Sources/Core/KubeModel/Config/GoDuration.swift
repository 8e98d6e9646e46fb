/// Durations written as Go's `time.ParseDuration` reads them (`90s`, `5m`, `1h30m`, `250ms`), because
/// kube-router's flags (`--iptables-sync-period=5m`) are written that way.
public enum GoDuration {
    /// Seconds, or nil when the text is not a Go duration. A bare `0` is accepted, as Go does.
    public static func seconds(_ text: String) -> Double? {
        if text == "0" { return 0 }
        var rest = Substring(text)
        var total = 0.0
        var sawUnit = false
        let units: [(String, Double)] = [
            ("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600),
        ]
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard
                let (unit, scale) = units.first(where: {
                    rest.hasPrefix($0.0) && !(($0.0 == "m") && rest.hasPrefix("ms"))
                })
            else {
                return nil
            }
            rest = rest.dropFirst(unit.count)
            total += value * scale
            sawUnit = true
        }
        return sawUnit ? total : nil
    }
}
