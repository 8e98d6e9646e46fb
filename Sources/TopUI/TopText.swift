import Foundation
import KubeModel

/// Text measured in terminal columns, not characters: wide (East Asian, emoji) characters take two,
/// combining marks none. Pure (no locale, no wcwidth), so a grid is the same in a test and on a terminal.
public enum TopText {
    public static func width(_ scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        switch v {
        case 0x0300...0x036F, 0x0483...0x0489, 0x0591...0x05BD, 0x0610...0x061A, 0x064B...0x065F, 0x200B...0x200F,
            0x20D0...0x20FF, 0xFE00...0xFE0F, 0xFE20...0xFE2F:
            return 0
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x2E80...0x303E, 0x3041...0x33FF,
            0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F,
            0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }

    public static func width(_ character: Character) -> Int {
        var widest = 0
        for scalar in character.unicodeScalars { widest = max(widest, width(scalar)) }
        return character.unicodeScalars.count > 0 && widest == 0 ? 0 : widest
    }

    public static func width(_ text: String) -> Int { text.reduce(0) { $0 + width($1) } }

    /// `text` cut to at most `columns` columns, its end marked (… or ~) when cut.
    public static func truncate(_ text: String, _ columns: Int, ascii: Bool = false) -> String {
        guard columns > 0 else { return "" }
        if width(text) <= columns { return text }
        let mark: Character = ascii ? "~" : "…"
        var out = ""
        var used = 0
        for c in text {
            let w = width(c)
            if used + w > columns - 1 { break }
            out.append(c)
            used += w
        }
        out.append(mark)
        return out
    }

    /// Cut or padded to exactly `columns` columns; numbers right-aligned.
    public static func fit(_ text: String, _ columns: Int, right: Bool = false, ascii: Bool = false) -> String {
        let cut = truncate(text, columns, ascii: ascii)
        let pad = String(repeating: " ", count: max(0, columns - width(cut)))
        return right ? pad + cut : cut + pad
    }

    /// Names from the cluster, peers and the kernel may hold control characters: shown escaped.
    public static func safe(_ text: String) -> String { Terminal.escapingControlCharacters(text) }

    /// A rate or count short enough for a column: 950, 1.2k, 3.4M.
    public static func amount(_ value: Double?, decimals: Bool = true) -> String {
        guard let value else { return "-" }
        let a = abs(value)
        if a >= 1e9 { return String(format: "%.1fG", value / 1e9) }
        if a >= 1e6 { return String(format: "%.1fM", value / 1e6) }
        if a >= 1e4 { return String(format: "%.1fk", value / 1e3) }
        if !decimals || value == value.rounded() { return String(Int(value.rounded())) }
        return a >= 100 ? String(Int(value.rounded())) : String(format: "%.1f", value)
    }

    /// Seconds as an age: 4s, 3m12s, 2h5m, 3d4h.
    public static func age(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite else { return "-" }
        let s = max(0, Int(seconds.rounded()))
        if s >= 86400 { return "\(s / 86400)d\(s % 86400 / 3600)h" }
        if s >= 3600 { return "\(s / 3600)h\(s % 3600 / 60)m" }
        if s >= 60 { return "\(s / 60)m\(s % 60)s" }
        return "\(s)s"
    }

    public static func duration(_ seconds: Double?) -> String {
        guard let seconds else { return "-" }
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        return String(format: "%.1fs", seconds)
    }

    /// An interval as the flag takes it: 0.5s, 2s, 1m.
    public static func interval(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60))m" }
        return seconds == seconds.rounded() ? "\(Int(seconds))s" : String(format: "%.1fs", seconds)
    }
}
