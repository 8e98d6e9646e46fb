/// Splits a parsed document into objects: a single object, a `kind: List`, or a typed list
/// (`PodList`, as the API returns) whose items carry no kind of their own.
public struct ObjectReader: Sendable {
    public var objects: [KubeObject] = []
    public var errors: [ObjectError] = []
    /// Fields the API does not define (a typo), in objects that were read: warnings, errors with `--strict`.
    public var warnings: [ObjectError] = []
    /// Kinds seen but not modelled, with counts.
    public var skippedKinds: [String: Int] = [:]
    /// Look for fields the API does not define (manifests; the API server has checked its own objects).
    public var checksUnknownFields: Bool

    public init(checksUnknownFields: Bool = false) { self.checksUnknownFields = checksUnknownFields }

    public mutating func read(_ value: JSONValue, source: String, inferredKind: String? = nil) {
        guard case .object(let object) = value else {
            errors.append(
                ObjectError(
                    source: source, object: "", field: FieldError("", "expected an object, got \(value.typeName)")))
            return
        }
        let fields = Fields(object)
        let kind = (try? fields.string("kind")) ?? inferredKind ?? ""
        if let items = try? fields.list("items"), kind == "List" || kind.hasSuffix("List") {
            let itemKind = kind == "List" ? nil : String(kind.dropLast(4))
            for item in items {
                read(item.value, source: "\(source) \(item.path)", inferredKind: itemKind)
            }
            return
        }
        guard !kind.isEmpty else {
            errors.append(
                ObjectError(
                    source: source, object: Self.label("", fields),
                    field: FieldError("kind", "is required")))
            return
        }
        do {
            if let decoded = try KubeObject.decode(kind: kind, fields) {
                objects.append(decoded)
                for path in checksUnknownFields ? KnownFields.unknown(kind: kind, value) : [] {
                    warnings.append(
                        ObjectError(
                            source: source, object: Self.label(kind, fields),
                            field: FieldError(path, "unknown field")))
                }
            } else if let meant = KnownFields.nearMiss(kind) {
                // Skipping it would silently drop (say) a policy: a deny read as an allow.
                errors.append(
                    ObjectError(
                        source: source, object: Self.label(kind, fields),
                        field: FieldError("kind", "unknown kind \"\(kind)\" (did you mean \"\(meant)\"?)")))
            } else {
                skippedKinds[kind, default: 0] += 1
            }
        } catch let error as FieldError {
            errors.append(ObjectError(source: source, object: Self.label(kind, fields), field: error))
        } catch {
            errors.append(
                ObjectError(source: source, object: Self.label(kind, fields), field: FieldError("", "\(error)")))
        }
    }

    /// `Kind namespace/name` read leniently, so that even a broken object is named in its error.
    static func label(_ kind: String, _ fields: Fields) -> String {
        let meta = try? fields.fields("metadata")
        let name = (try? meta?.string("name")) ?? nil
        let namespace = (try? meta?.string("namespace")) ?? nil
        let id = [namespace, name].compactMap { $0 }.joined(separator: "/")
        return [kind, id].filter { !$0.isEmpty }.joined(separator: " ")
    }
}
