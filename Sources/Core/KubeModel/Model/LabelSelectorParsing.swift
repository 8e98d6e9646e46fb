extension LabelSelector {
    /// Parses the string form used by `kubectl -l` and the API's `labelSelector` parameter:
    /// `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x,y)`, joined by commas.
    /// `a!=b` is `NotIn [b]` (it also holds when the label is absent), as in the API.
    public init?(parsing text: String) {
        var labels: [String: String] = [:]
        var expressions: [Requirement] = []
        for term in Self.splitTerms(text) {
            let t = term.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            if let range = t.range(of: " notin ") ?? t.range(of: " in ") {
                let key = t[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let op: Requirement.Operator = t[range].contains("notin") ? .notIn : .in
                var list = t[range.upperBound...].trimmingCharacters(in: .whitespaces)
                guard list.hasPrefix("("), list.hasSuffix(")"), !key.isEmpty else { return nil }
                list = String(list.dropFirst().dropLast())
                let values = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                    !$0.isEmpty
                }
                guard !values.isEmpty else { return nil }
                expressions.append(Requirement(key: key, op: op, values: values))
            } else if let range = t.range(of: "!=") {
                let key = t[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                guard !key.isEmpty else { return nil }
                expressions.append(
                    Requirement(
                        key: key, op: .notIn, values: [t[range.upperBound...].trimmingCharacters(in: .whitespaces)]))
            } else if let range = t.range(of: "==") ?? t.range(of: "=") {
                let key = t[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                guard !key.isEmpty else { return nil }
                labels[key] = t[range.upperBound...].trimmingCharacters(in: .whitespaces)
            } else if t.hasPrefix("!") {
                let key = t.dropFirst().trimmingCharacters(in: .whitespaces)
                guard !key.isEmpty else { return nil }
                expressions.append(Requirement(key: key, op: .doesNotExist))
            } else {
                guard !t.contains(" ") else { return nil }
                expressions.append(Requirement(key: t, op: .exists))
            }
        }
        self.init(matchLabels: labels, matchExpressions: expressions)
    }

    /// Splits on commas that are not inside a parenthesised value list.
    private static func splitTerms(_ text: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var depth = 0
        for c in text {
            switch c {
            case "(":
                depth += 1
                current.append(c)
            case ")":
                depth -= 1
                current.append(c)
            case "," where depth == 0:
                terms.append(current)
                current = ""
            default: current.append(c)
            }
        }
        terms.append(current)
        return terms
    }
}
