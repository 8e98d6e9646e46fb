import ArgumentParser
import KubeAPI
import KubeModel

/// Options every command that reads the cluster shares: manifests offline, else the live API
/// server through a kubeconfig (kubectl's lookup order) or the pod's service account.
struct ClusterOptions: ParsableArguments {
    @Option(
        name: [.customShort("f"), .customLong("manifests")],
        help: ArgumentHelp(
            "Read objects from a YAML/JSON file or folder instead of the API server (repeatable).", valueName: "path"))
    var manifests: [String] = []

    @Option(
        help: ArgumentHelp(
            "Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).",
            valueName: "path"))
    var kubeconfig: String?

    @Option(help: ArgumentHelp("The kubeconfig context to use (default: its current-context).", valueName: "name"))
    var context: String?

    @Flag(
        help: "Manifests: unknown fields, kinds that are not read and objects defined twice are errors, not warnings.")
    var strict = false

    /// Reads the cluster, with the namespace bare pod names live in: the kubeconfig context's (as kubectl
    /// does), or `default` for manifests. Errors come back worded for the operator.
    func load(
        resources: [APIResource] = APIResource.forPolicy
    ) throws -> (snapshot: ClusterSnapshot, contextNamespace: String) {
        try ClusterReader(manifests: manifests, kubeconfig: kubeconfig, context: context, strict: strict)
            .load(resources: resources)
    }

    func source(resources: [APIResource] = APIResource.forPolicy) throws -> any ClusterSource {
        try ClusterReader(manifests: manifests, kubeconfig: kubeconfig, context: context, strict: strict)
            .source(resources: resources)
    }
}
