import KubeModel

/// A failure at run time (bad manifests, unknown pod): printed as `Error: ...`, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    /// Names from manifests and the cluster end up in errors: control characters are shown escaped.
    init(_ description: String) { self.description = Terminal.escapingControlCharacters(description) }

    /// Every invalid object of the manifests, one per line.
    init(_ error: ManifestLoadError) {
        self.init(
            "invalid manifests (\(error.errors.count) problem\(error.errors.count == 1 ? "" : "s")):\n"
                + error.errors.map { "  \($0)" }.joined(separator: "\n"))
    }
}
