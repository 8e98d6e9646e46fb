/// Objects read from YAML/JSON manifest files and folders.
public struct ManifestSource: ClusterSource {
    public var paths: [String]
    /// Unknown fields, kinds that are not read and objects defined twice are errors, not warnings.
    public var strict: Bool
    public var warn: @Sendable (String) -> Void

    public init(paths: [String], strict: Bool = false, warn: @escaping @Sendable (String) -> Void = { _ in }) {
        self.paths = paths
        self.strict = strict
        self.warn = warn
    }

    /// Throws `ManifestLoadError` listing every invalid object: a review tool must not silently drop one.
    public func snapshot() throws -> ClusterSnapshot {
        let reader = try ManifestLoader().read(paths: paths)
        var notices = reader.warnings.map(\.description)
        if !reader.skippedKinds.isEmpty {
            let kinds = reader.skippedKinds.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }
            notices.append("objects of kinds that are not read were skipped: \(kinds.joined(separator: ", "))")
        }
        if strict {
            let asErrors =
                reader.warnings
                + (reader.skippedKinds.isEmpty
                    ? []
                    : [
                        ObjectError(
                            source: paths.joined(separator: ", "), object: "",
                            field: FieldError("kind", notices.last ?? ""))
                    ])
            guard reader.errors.isEmpty && asErrors.isEmpty else {
                throw ManifestLoadError(errors: reader.errors + asErrors)
            }
        }
        guard reader.errors.isEmpty else { throw ManifestLoadError(errors: reader.errors) }
        for notice in notices { warn(notice) }
        return ClusterSnapshot(reader.objects)
    }
}
