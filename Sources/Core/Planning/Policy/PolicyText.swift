import KubeModel

/// Human-readable renderings of explanations and matrices (the `-o text` output of krctl).
public enum PolicyText {
    public static func explanation(_ e: PolicyExplanation, terminal: Terminal) -> String {
        var lines: [String] = []
        let verdict = e.verdict == .allow ? terminal.paint("ALLOW", .green) : terminal.paint("DENY", .red)
        var port = "\(e.port)/\(e.protocol.rawValue)"
        if let name = e.portName { port += " (\"\(name)\")" }
        lines.append("\(terminal.paint(verdict, .bold))  \(endpoint(e.from)) → \(endpoint(e.to))  port \(port)")
        for side in [e.egress, e.ingress] {
            lines.append("")
            let where_ = side.pod.map { " at \($0)" } ?? ""
            let mark = side.verdict == .allow ? terminal.paint("allowed", .green) : terminal.paint("denied", .red)
            lines.append(terminal.paint("\(side.direction.capitalized)\(where_): ", .bold) + mark)
            lines.append("  \(side.reason)")
            if side.isolated {
                lines.append(
                    "  isolated by: "
                        + (side.policies.isEmpty
                            ? "the node's default deny (--netpol-default-deny)" : side.policies.joined(separator: ", "))
                )
                let withRules = Set(side.rules.map(\.policy))
                for policy in side.policies where !withRules.contains(policy) {
                    lines.append(
                        "  " + terminal.paint("✗", .red)
                            + " \(policy): no \(side.direction) rules (denies all \(side.direction))")
                }
                for rule in side.rules {
                    let tick = rule.allows ? terminal.paint("✓", .green) : terminal.paint("✗", .red)
                    lines.append("  \(tick) \(rule.policy) \(side.direction) rule \(rule.rule): \(rule.reason)")
                }
            }
            for named in side.namedPorts {
                let target =
                    named.resolvedTo.isEmpty
                    ? "not declared" : named.resolvedTo.map(String.init).joined(separator: ", ")
                lines.append(
                    "  named port \"\(named.name)\"/\(named.protocol.rawValue) "
                        + "on \(named.pod ?? "the destination") → \(target)"
                )
            }
        }
        if let kernel = e.kernel {
            lines.append("")
            lines += FirewallText.kernel(kernel, terminal: terminal)
        }
        return lines.joined(separator: "\n")
    }

    static func endpoint(_ e: PolicyExplanation.Endpoint) -> String {
        switch e.kind {
        case "pod": "\(e.pod ?? "?") (\(e.ip)\(e.hostNetwork == true ? ", host network" : ""))"
        case "node": "node \(e.node ?? "?") (\(e.ip))"
        default: e.ip
        }
    }

    /// One grid per port: rows are sources, columns destinations, numbered with a legend.
    public static func matrix(_ m: PolicyMatrix, terminal: Terminal) -> String {
        let n = m.pods.count
        guard n > 1 else { return "fewer than two pods that are network endpoints: no pairs to show" }
        let numberWidth = String(n).count
        let nameWidth = min(m.pods.map(\.count).max() ?? 0, 48)
        let cellWidth = max(numberWidth, 1) + 1
        var out: [String] = []
        for (p, port) in m.ports.enumerated() {
            var allowed = 0
            out.append(terminal.paint("Port \(port)", .bold) + "   rows: from, columns: to   ✓ allow  ✗ deny")
            var header = String(repeating: " ", count: numberWidth + 1 + nameWidth + 1)
            for j in 0..<n { header += pad(String(j + 1), cellWidth) }
            out.append(header)
            for i in 0..<n {
                var row =
                    pad(String(i + 1), numberWidth) + " " + padRight(truncate(m.pods[i], nameWidth), nameWidth) + " "
                for j in 0..<n {
                    guard let cell = m.cell(from: i, to: j, port: p) else {
                        row += pad("·", cellWidth)
                        continue
                    }
                    if cell.verdict == .allow { allowed += 1 }
                    let symbol = cell.verdict == .allow ? "✓" : "✗"
                    let padded = pad(symbol, cellWidth)
                    row += terminal.paint(padded, cell.verdict == .allow ? .green : .red)
                }
                out.append(row)
            }
            out.append("\(allowed) of \(n * (n - 1)) pairs allowed")
            out.append("")
        }
        return out.joined(separator: "\n")
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - s.count)) + s
    }

    private static func padRight(_ s: String, _ width: Int) -> String {
        s + String(repeating: " ", count: max(0, width - s.count))
    }

    private static func truncate(_ s: String, _ width: Int) -> String {
        s.count <= width ? s : "…" + s.suffix(width - 1)
    }
}
