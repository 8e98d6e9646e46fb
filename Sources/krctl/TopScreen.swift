import CNcurses
import Foundation
import TopUI

#if canImport(Glibc)
import Glibc
#endif

/// The terminal through ncursesw: the only code of `krctl top` that calls it, always from one thread.
/// Opens with `newterm` (never `initscr`, which exits the process on an unknown terminal), trying $TERM and
/// then the common types; draws a `TopGrid` with erase + wnoutrefresh + doupdate (no flicker); reads keys as
/// `TopKey`s. `close()` restores the terminal; the command calls it on every way out, signals included.
final class TopScreen {
    private let screen: OpaquePointer
    let color: Bool
    /// The terminal type used, when it was not $TERM (said after the dashboard closes).
    let fallback: String?
    private var closed = false

    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// The locale from the environment (ncursesw needs it for UTF-8); whether it is UTF-8.
    static func setLocale() -> Bool {
        setlocale(LC_ALL, "")
        guard let codeset = nl_langinfo(nl_item(CODESET)) else { return false }
        return String(cString: codeset).uppercased().replacingOccurrences(of: "-", with: "") == "UTF8"
    }

    /// The terminal types to try, in order.
    static func candidates(term: String?) -> [String] {
        var list: [String] = []
        if let term, !term.isEmpty, term != "dumb" { list.append(term) }
        for fallback in ["xterm-256color", "xterm", "vt100"] where !list.contains(fallback) { list.append(fallback) }
        return list
    }

    init(term: String?, color wanted: Bool) throws {
        guard isatty(0) == 1, isatty(1) == 1 else {
            throw Unavailable(description: "standard input and output are not a terminal")
        }
        if term == "dumb" {
            throw Unavailable(description: "TERM=dumb cannot draw the dashboard (set TERM, e.g. TERM=xterm-256color)")
        }
        var opened: (OpaquePointer, String)?
        for type in Self.candidates(term: term) {
            if let s = kr_newterm(type) {
                opened = (s, type)
                break
            }
        }
        guard let (screen, type) = opened else {
            throw Unavailable(
                description:
                    "no terminal description for TERM=\(term ?? "(unset)") nor xterm-256color, xterm, vt100 "
                    + "(install ncurses-base or set TERM)")
        }
        self.screen = screen
        self.fallback = type == term ? nil : type
        _ = set_term(screen)
        cbreak()
        noecho()
        _ = kr_keypad()
        curs_set(0)
        set_escdelay(25)
        color = wanted && kr_start_colors() == 1
        kr_timeout(100)
    }

    var size: (width: Int, height: Int) { (Int(kr_cols()), Int(kr_lines())) }

    /// Draws one frame.
    func draw(_ grid: TopGrid) {
        _ = kr_erase()
        for y in 0..<grid.height {
            var x = 0
            while x < grid.width {
                let attributes = grid.cells[y][x].attributes
                var run: [wchar_t] = []
                let start = x
                while x < grid.width, grid.cells[y][x].attributes == attributes {
                    for scalar in grid.cells[y][x].text.unicodeScalars { run.append(wchar_t(bitPattern: scalar.value)) }
                    x += 1
                }
                guard !run.isEmpty else { continue }
                _ = kr_set_attributes(UInt32(attributes.rawValue & 0xF), color ? Self.pair(attributes) : 0)
                // The last cell of the screen: writing it would scroll; skip it.
                if y == grid.height - 1 && x == grid.width { run.removeLast() }
                run.withUnsafeBufferPointer {
                    _ = kr_mvaddnwstr(Int32(y), Int32(start), $0.baseAddress, Int32($0.count))
                }
            }
        }
        _ = kr_set_attributes(0, 0)
        _ = kr_wnoutrefresh()
        doupdate()
    }

    static func pair(_ attributes: TopAttributes) -> Int16 {
        if attributes.contains(.red) { return 1 }
        if attributes.contains(.green) { return 2 }
        if attributes.contains(.yellow) { return 3 }
        if attributes.contains(.cyan) { return 4 }
        return 0
    }

    /// The next key, waiting at most the screen's timeout (100 ms); nil when none came.
    func key() -> TopKey? {
        var c: wint_t = 0
        let rc = kr_get_wch(&c)
        if rc == ERR { return nil }
        if rc == kr_key_code_yes() {
            switch Int32(c) {
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_LEFT: return .left
            case KEY_RIGHT: return .right
            case KEY_PPAGE: return .pageUp
            case KEY_NPAGE: return .pageDown
            case KEY_HOME: return .home
            case KEY_END: return .end
            case KEY_ENTER: return .enter
            case KEY_BTAB: return .backTab
            case KEY_BACKSPACE: return .backspace
            case KEY_RESIZE: return .resize
            default: return nil
            }
        }
        switch c {
        case 10, 13: return .enter
        case 27: return .escape
        case 9: return .tab
        case 8, 127: return .backspace
        default:
            guard let scalar = Unicode.Scalar(UInt32(c)), c >= 32 else { return nil }
            return .character(Character(scalar))
        }
    }

    func close() {
        guard !closed else { return }
        closed = true
        curs_set(1)
        endwin()
        delscreen(screen)
    }

    deinit { close() }
}
