import Foundation
import TestSupport
import Testing

/// The real `krctl top` in tmux on the demo recording: every pane, filter, sort with the selection following
/// its row, drill in and out, resizing down to 40×12 and back, colours and NO_COLOR, TERM unset or dumb,
/// LANG=C, and the terminal restored on q. Each step sends keys and polls the screen (bounded), never sleeps.
@Suite(
    .serialized,
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"), "needs tmux"))
struct TopTerminalTests {
    /// A tmux server of its own (its socket), one 80×24 session running krctl top.
    final class Session {
        let socket = "kr-top-\(getpid())-\(UUID().uuidString.prefix(8))"
        let name = "top"

        init(
            environment: String = "-u NO_COLOR TERM=xterm-256color", arguments: String = "", width: Int = 80,
            height: Int = 24
        )
            throws
        {
            let command =
                "env \(environment) \(Krctl.binary.path) top --replay \(TopCLITests.demo) --interval 0.5s "
                + "\(arguments) 2>/tmp/\(socket).err; echo \"krctl exited $?\"; cat /tmp/\(socket).err; sleep 600"
            // The server it starts would keep a pipe open: its output goes nowhere, so nothing waits on it.
            let quoted = command.replacingOccurrences(of: "'", with: "'\\''")
            let start =
                "/usr/bin/tmux -L \(socket) new-session -d -s \(name) -x \(width) -y \(height) '\(quoted)' "
                + "< /dev/null > /dev/null 2>&1"
            let status = Self.shell(start)
            if status != 0 { Issue.record("tmux new-session: exit status \(status)") }
        }

        /// `sh -c command` through posix_spawn and waitpid: Foundation's Process never saw the shell that starts a
        /// tmux server exit (it stayed a zombie), so the server's start does not go through it.
        @discardableResult
        static func shell(_ command: String) -> Int32 {
            var pid: pid_t = 0
            let arguments = ["/bin/sh", "-c", command]
            var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
            defer { for p in argv { free(p) } }
            guard posix_spawn(&pid, "/bin/sh", nil, nil, &argv, environ) == 0 else { return -1 }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 {
                if errno != EINTR { return 0 }  // reaped elsewhere (ECHILD)
            }
            return (status >> 8) & 0xFF
        }

        /// A tmux command (output read back from a file, as for the server's start).
        @discardableResult
        func tmux(_ arguments: [String]) throws -> String {
            let output = "/tmp/\(socket).out"
            let quoted = arguments.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            let status = Self.shell(
                "/usr/bin/tmux -L \(socket) \(quoted.joined(separator: " ")) < /dev/null > \(output) 2>&1")
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            if status != 0 { Issue.record("tmux \(arguments): \(text)") }
            return text
        }

        func screen(escapes: Bool = false) -> String {
            (try? tmux(["capture-pane", "-p", "-t", name] + (escapes ? ["-e"] : []))) ?? ""
        }

        func send(_ keys: String...) throws { try tmux(["send-keys", "-t", name] + keys) }

        /// Polls the screen until `predicate` holds (at most `timeout` seconds); the last screen otherwise.
        @discardableResult
        func wait(
            _ what: String, timeout: Double = 10, escapes: Bool = false, _ predicate: (String) -> Bool
        ) -> Bool {
            let deadline = Date(timeIntervalSinceNow: timeout)
            var last = ""
            while Date() < deadline {
                last = screen(escapes: escapes)
                if predicate(last) { return true }
                usleep(30_000)
            }
            Issue.record("waited for \(what); the screen:\n\(last)")
            return false
        }

        func wait(for text: String, timeout: Double = 10) { wait(text, timeout: timeout) { $0.contains(text) } }

        deinit {
            Self.shell("/usr/bin/tmux -L \(socket) kill-server < /dev/null > /dev/null 2>&1")
            unlink("/tmp/\(socket).err")
            unlink("/tmp/\(socket).out")
        }
    }

    @Test func everyPaneFilterSortDrillResizeAndQuit() throws {
        let s = try Session()
        s.wait(for: "1 Overview")
        // The last snapshot of the recording: the rates are there.
        s.wait(for: "conn/s")
        s.wait("the recording's rates") { $0.contains("drops 5/s") }
        for (key, heading) in [
            ("2", "CONN/S"), ("3", "DROPS/S"), ("4", "PROTO/PORT"), ("5", "RECV/ACC"), ("6", "LAST SYNC"),
            ("Tab", "conn/s"), ("Tab", "CONN/S"), ("BTab", "conn/s"), ("Right", "CONN/S"),
        ] {
            try s.send(key)
            s.wait(for: heading)
        }
        // Filter: only shop's services; Esc clears it.
        try s.send("/", "shop")
        s.wait(for: "/shop")
        try s.send("Enter")
        s.wait("the filter applied") { $0.contains("filter: shop") && !$0.contains("kube-dns") }
        try s.send("Escape")
        s.wait("the filter cleared") { $0.contains("kube-dns") && !$0.contains("filter:") }
        // Select shop/web (second row), sort by connections: it moves to the top and stays selected.
        try s.send("j")
        s.wait(for: "Services 2/6")
        try s.send("s")
        s.wait("the sort by CONN/S") { $0.contains("CONN/S▼") && $0.contains("Services 1/6") }
        #expect(s.screen().contains(" shop/web:80/TCP  TCP 10.96.12.7:80"))
        try s.send("I")
        s.wait("the inverted sort") { $0.contains("CONN/S▲") && $0.contains("Services 6/6") }
        // Drill into its real servers and back.
        try s.send("Enter")
        s.wait("the real servers") { $0.contains("SERVER") && $0.contains("shop/web-3") }
        try s.send("Escape")
        s.wait(for: "CONN/S")
        // Smaller and back.
        try s.tmux(["resize-window", "-t", s.name, "-x", "40", "-y", "12"])
        s.wait("the compact layout") { $0.hasPrefix("2 Services") }
        try s.tmux(["resize-window", "-t", s.name, "-x", "80", "-y", "24"])
        s.wait("the full layout") { $0.hasPrefix("krctl top") }
        try s.send("?")
        s.wait(for: "Keys")
        try s.send("Escape", "q")
        s.wait("the exit") { $0.contains("krctl exited 0") }
        #expect(!s.screen().contains("CONN/S"), "the terminal was restored")
    }

    @Test func coloursAndNoColor() throws {
        let s = try Session()
        s.wait(for: "1 Overview")
        try s.send("2")
        s.wait("NO-ENDPOINTS in yellow", escapes: true) { $0.contains("\u{1B}[33mNO-ENDPOINTS") }
        #expect(s.screen(escapes: true).contains("\u{1B}[1m"))
        let plain = try Session(environment: "TERM=xterm-256color NO_COLOR=1")
        plain.wait(for: "1 Overview")
        try plain.send("2")
        plain.wait(for: "NO-ENDPOINTS")
        let text = plain.screen(escapes: true)
        for code in ["31", "32", "33", "36"] { #expect(!text.contains("\u{1B}[\(code)m"), "\(text)") }
        #expect(text.contains("\u{1B}[1m"))
    }

    @Test func terminalFallbacks() throws {
        // No TERM (kubectl exec): drawn with xterm-256color, said on exit.
        let unset = try Session(environment: "-u TERM")
        unset.wait(for: "1 Overview")
        try unset.send("q")
        unset.wait("the hint") { $0.contains("krctl exited 0") && $0.contains("drew with xterm-256color") }
        // TERM=dumb: one snapshot printed, with the reason.
        let dumb = try Session(environment: "TERM=dumb")
        dumb.wait("the batch output") { $0.contains("krctl exited 0") && $0.contains("TERM=dumb cannot draw") }
        // An unknown TERM: the fallback.
        let unknown = try Session(environment: "TERM=no-such-terminal")
        unknown.wait(for: "1 Overview")
        try unknown.send("q")
        unknown.wait("the hint") { $0.contains("TERM=no-such-terminal is unknown here") }
    }

    @Test func aNonUTF8LocaleDrawsASCII() throws {
        let s = try Session(environment: "TERM=xterm-256color LANG=C LC_ALL=C")
        s.wait(for: "1 Overview")
        s.wait("ASCII borders") { $0.contains("- Overview ---") }
        #expect(!s.screen().contains("─") && !s.screen().contains("│"))
        try s.send("q")
        s.wait(for: "krctl exited 0")
    }
}
