import KubeModel

/// Names and numbers of the node's network that kube-router owns, shared by planners and the kernel layer.
public enum NodeNetwork {
    /// The dummy link that holds the service VIPs (kube-router's name).
    public static let dummyInterface = "kube-dummy-if"
    /// The routing protocol number of the routes kube-router installs (`ip route show proto 201`).
    public static let kubeRouterProtocol: UInt8 = 201
}
