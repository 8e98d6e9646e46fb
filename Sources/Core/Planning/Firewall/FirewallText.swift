import KubeModel

/// Human-readable renderings of what the kernel's firewall does: the kernel verdict of a packet and
/// a pod's protection (`krctl explain-policy` on a node, `krctl policy check`).
public enum FirewallText {
    public static func kernel(_ k: KernelVerdict, terminal: Terminal) -> [String] {
        var lines: [String] = []
        guard let hook = k.hook, let verdict = k.verdict else {
            return [terminal.paint("Kernel of node \(k.node): ", .bold) + "not on the path", "  \(k.note ?? "")"]
        }
        let word = verdict.uppercased()
        let painted = terminal.paint(word, verdict == "accept" ? .green : .red)
        let agreement =
            k.agrees
            ? terminal.paint("as planned", .green)
            : terminal.paint("DRIFT: the planned rules give \((k.planned ?? "?").uppercased())", .red)
        lines.append(
            terminal.paint("Kernel of node \(k.node) (\(hook), \(k.table)): ", .bold) + "\(painted), \(agreement)")
        if !k.enforces.isEmpty {
            lines.append("  this node enforces the policies for the \(k.enforces.joined(separator: " and "))")
        }
        if k.path.isEmpty { lines.append("  no rule of ours matched: the packet returns to \(hook)") }
        for step in k.path {
            let arrow = ["ACCEPT", "DROP", "REJECT"].contains(step.target) ? step.target : "→ \(step.target)"
            lines.append("  \(step.chain) #\(step.rule) \(arrow)   \(terminal.paint(step.comment, .dim))")
        }
        for lookup in k.sets {
            let result = lookup.member ? "holds" : "does not hold"
            lines.append("  set \(lookup.set) (\(lookup.about)) \(result) \(lookup.entry)")
        }
        lines += drift(k.drift, terminal: terminal)
        return lines
    }

    public static func drift(_ findings: [DriftFinding], terminal: Terminal) -> [String] {
        guard !findings.isEmpty else { return [] }
        var lines = [terminal.paint("Drift (\(findings.count)): the kernel differs from the plan", .red)]
        for finding in findings { lines.append("  " + terminal.paint("✗", .red) + " \(finding)") }
        lines.append("  The agent's next sync repairs this (--iptables-sync-period); if it persists, see its log.")
        return lines
    }
}
