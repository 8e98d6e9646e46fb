/// A `metav1.LabelSelector`: every `matchLabels` pair and every expression must hold.
/// An empty selector matches everything; a *missing* selector is modelled by the caller as `nil`.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    public struct Requirement: Sendable, Hashable {
        public enum Operator: String, Sendable, Hashable {
            case `in` = "In", notIn = "NotIn", exists = "Exists", doesNotExist = "DoesNotExist"
        }
        public var key: String
        public var op: Operator
        public var values: [String]

        public init(key: String, op: Operator, values: [String] = []) {
            self.key = key
            self.op = op
            self.values = values
        }

        public func matches(_ labels: [String: String]) -> Bool {
            switch op {
            case .in: labels[key].map(values.contains) ?? false
            case .notIn: labels[key].map { !values.contains($0) } ?? true
            case .exists: labels[key] != nil
            case .doesNotExist: labels[key] == nil
            }
        }
    }

    public var matchLabels: [String: String]
    public var matchExpressions: [Requirement]

    public init(matchLabels: [String: String] = [:], matchExpressions: [Requirement] = []) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    public static let everything = LabelSelector()

    public var isEmpty: Bool { matchLabels.isEmpty && matchExpressions.isEmpty }

    public func matches(_ labels: [String: String]) -> Bool {
        for (k, v) in matchLabels where labels[k] != v { return false }
        for r in matchExpressions where !r.matches(labels) { return false }
        return true
    }

    /// The selector as kubectl prints it: `app=web,tier in (a,b),!legacy`; `<all>` when empty.
    public var description: String {
        if isEmpty { return "<all>" }
        var parts = matchLabels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        for r in matchExpressions {
            switch r.op {
            case .in: parts.append("\(r.key) in (\(r.values.joined(separator: ",")))")
            case .notIn: parts.append("\(r.key) notin (\(r.values.joined(separator: ",")))")
            case .exists: parts.append(r.key)
            case .doesNotExist: parts.append("!\(r.key)")
            }
        }
        return parts.joined(separator: ",")
    }

    init(_ fields: Fields) throws {
        matchLabels = try fields.stringMap("matchLabels")
        matchExpressions = try (fields.objects("matchExpressions") ?? []).map { e in
            let key = try e.requiredString("key")
            let opText = try e.requiredString("operator")
            guard let op = Requirement.Operator(rawValue: opText) else {
                throw FieldError(
                    e.child("operator"),
                    "unknown selector operator \"\(opText)\" (expected In, NotIn, Exists or DoesNotExist)")
            }
            let values = try e.strings("values")
            let needsValues = op == .in || op == .notIn
            if needsValues && values.isEmpty {
                throw FieldError(e.child("values"), "must be non-empty for operator \(op.rawValue)")
            }
            if !needsValues && !values.isEmpty {
                throw FieldError(e.child("values"), "must be empty for operator \(op.rawValue)")
            }
            return Requirement(key: key, op: op, values: values)
        }
    }
}
