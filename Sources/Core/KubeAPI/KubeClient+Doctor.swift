import Foundation
import KubeModel

extension KubeClient {
    /// What the node checks ask the API server: the access reviews of `requests` (the agent's needs, from
    /// `DoctorCatalog.accessRequests(for:)`) and every node's pod CIDRs and addresses. Never throws: a
    /// server that cannot be asked is recorded as the answer (`error`), nodes that cannot be listed too.
    public func doctorAPIFacts(node: String, requests: [AccessReview.Request]) -> DoctorAPIFacts {
        var facts = DoctorAPIFacts(server: config.server, node: node)
        do {
            facts.reviews = try reviewAccess(requests)
        } catch {
            facts.error = "\(error)"
            return facts
        }
        do {
            var unreadable: [String] = []
            facts.nodes = try list(.nodes).items.compactMap { item in
                do {
                    guard case .node(let node)? = try KubeObject.decode(kind: "Node", item) else { return nil }
                    return DoctorAPIFacts.NodeInfo(node)
                } catch {
                    unreadable.append("node \(item["metadata"]?["name"]?.stringValue ?? "?") cannot be read: \(error)")
                    return nil
                }
            }
            if !unreadable.isEmpty { facts.nodesError = unreadable.joined(separator: "; ") }
        } catch {
            facts.nodesError = "\(error)"
        }
        return facts
    }
}
