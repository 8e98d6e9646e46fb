import ArgumentParser
import KubeAPI
import KubeModel

/// Where a command reads the cluster from, as plain values: `ClusterOptions` fills it, and so do commands
/// whose own flags differ (`krctl drops` keeps `-f` for --follow).
struct ClusterReader {
    var manifests: [String]
    var kubeconfig: String?
    var context: String?
    var strict: Bool

    /// Reads the cluster, with the namespace bare pod names live in: the kubeconfig context's (as kubectl
    /// does), or `default` for manifests. Errors come back worded for the operator.
    func load(
        resources: [APIResource] = APIResource.forPolicy
    ) throws -> (snapshot: ClusterSnapshot, contextNamespace: String) {
        do {
            let source = try source(resources: resources)
            let namespace = (source as? APISource)?.config.namespace ?? "default"
            return (try source.snapshot(), namespace)
        } catch let error as ManifestLoadError {
            throw CommandFailure(error)
        } catch let error as KubeAPIError {
            throw CommandFailure("cannot read the cluster: \(error)")
        }
    }

    func source(resources: [APIResource] = APIResource.forPolicy) throws -> any ClusterSource {
        if !manifests.isEmpty {
            guard kubeconfig == nil, context == nil else {
                throw ValidationError("--manifests reads files: it takes no --kubeconfig or --context")
            }
            let progress = Progress()
            return ManifestSource(paths: manifests, strict: strict, warn: { progress.warn($0) })
        }
        let config: KubeConfig
        do {
            config = try KubeConfig.resolve(kubeconfig: kubeconfig, context: context)
        } catch let error as KubeConfigError {
            throw CommandFailure("\(error.description) (or read manifests with --manifests PATH)")
        }
        let progress = Progress()
        for warning in config.securityWarnings { progress.warn(warning) }
        return APISource(
            config: config, resources: resources,
            progress: { resource, count in progress.update("listing \(resource): \(count)") },
            warn: { message in progress.warn(message) })
    }
}
