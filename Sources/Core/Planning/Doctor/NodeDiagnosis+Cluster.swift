import Foundation
import KubeModel

/// The API's answers (RBAC) and the agent's own state.
extension NodeDiagnosis {
    static func rbac(_ api: DoctorAPIFacts?, enabled: Set<DoctorController>) -> DoctorCheck {
        let id = "api-rbac"
        let needing = DoctorController.allCases.filter { enabled.contains($0) }
        guard let api else {
            return DoctorCheck(
                id: id, status: .skip,
                message: "no API server to ask (no kubeconfig found; krctl doctor --kubeconfig PATH)",
                issue: DoctorIssue.rbac, controllers: needing)
        }
        if let error = api.error {
            return DoctorCheck(
                id: id, status: .fail,
                message: "cannot ask the API server \(api.server): \(error)",
                fix: "check the server address and the credentials of the kubeconfig (the agent's: its --kubeconfig, "
                    + "or its service account in a pod)",
                issue: DoctorIssue.rbac, controllers: needing)
        }
        let wanted = DoctorCatalog.apiAccess.filter { !enabled.isDisjoint(with: $0.controllers) }
        let answers = Dictionary(api.reviews.map { ($0.request, $0) }, uniquingKeysWith: { a, _ in a })
        var denied: [String] = []
        var unanswered: [String] = []
        var affected = Set<DoctorController>()
        for need in wanted {
            guard let answer = answers[need.request] else {
                unanswered.append(need.request.description)
                continue
            }
            if !answer.allowed {
                denied.append(need.request.description)
                affected.formUnion(need.controllers.filter { enabled.contains($0) })
            }
        }
        guard denied.isEmpty else {
            let who = affected.sorted().map(\.flag)
            return DoctorCheck(
                id: id, status: .fail,
                message: "these credentials may not \(list(denied)) (needed by \(list(who))): the agent's informers "
                    + "cannot list or watch them, so it never becomes ready",
                fix:
                    "grant the agent's ClusterRole get, list and watch on nodes and list and watch on namespaces, "
                    + "pods, networkpolicies (networking.k8s.io), services and endpointslices (discovery.k8s.io); "
                    + "check with "
                    + "kubectl auth can-i VERB RESOURCE --as system:serviceaccount:kube-system:kube-router",
                issue: DoctorIssue.rbac, controllers: affected.sorted())
        }
        if !unanswered.isEmpty {
            return DoctorCheck(
                id: id, status: .skip, message: "not asked: \(list(unanswered))", issue: DoctorIssue.rbac,
                controllers: needing)
        }
        return DoctorCheck(
            id: id, status: .ok,
            message: "\(api.server): allowed everything \(list(needing.map(\.flag))) read "
                + "(\(plural(wanted.count, "access review")))",
            issue: DoctorIssue.rbac, controllers: needing)
    }

    /// How long a controller may go without a sync before its status looks stuck: every controller syncs
    /// fully at least every 5 minutes by default.
    static let staleAfter: TimeInterval = 30 * 60

    static func agentHealth(_ facts: NodeFacts) -> DoctorCheck {
        let id = "agent-health"
        guard let agent = facts.agent else {
            return DoctorCheck(id: id, status: .skip, message: "not asked")
        }
        let statuses: [(DoctorController, String, Int32?, String)] = [
            agent.firewall.map { (.firewall, "firewall", $0.pid, $0.lastSync) },
            agent.serviceProxy.map { (.serviceProxy, "service proxy", $0.pid, $0.lastSync) },
            agent.router.map { (.router, "router", $0.pid, $0.lastSync) },
        ].compactMap { $0 }
        guard !statuses.isEmpty || agent.socketAnswers == true else {
            return DoctorCheck(
                id: id, status: .skip,
                message: "no agent status in \(agent.stateDir): is kube-router running on this node with "
                    + "--state-dir \(agent.stateDir)?")
        }
        // Ages are measured from when the facts were read (no clock here): without that time, none is judged.
        let now = date(facts.collectedAt)
        var problems: [String] = []
        var notes: [String] = []
        var affected = Set<DoctorController>()
        for (controller, name, pid, lastSync) in statuses {
            if let pid, !agent.runningPids.contains(pid) {
                problems.append("\(name) status written by pid \(pid), which is not running (the agent stopped)")
                affected.insert(controller)
                continue
            }
            guard let now, let synced = date(lastSync) else { continue }
            let elapsed = now.timeIntervalSince(synced)
            if elapsed > staleAfter {
                problems.append("\(name): no sync for \(age(elapsed))")
                affected.insert(controller)
            } else {
                notes.append("\(name) synced \(age(elapsed)) ago")
            }
        }
        if let firewall = agent.firewall, firewall.rejectedObjects > 0 {
            let which = firewall.rejected.map { ": \(some($0, limit: 3))" } ?? ""
            problems.append("firewall: \(plural(firewall.rejectedObjects, "object")) cannot be read\(which)")
            affected.insert(.firewall)
        }
        if let proxy = agent.serviceProxy {
            let issues = proxy.problems + proxy.lastReport.errors
            if !issues.isEmpty {
                problems.append("service proxy: \(plural(issues.count, "problem")), first: \(issues[0])")
                affected.insert(.serviceProxy)
            }
        }
        if let router = agent.router {
            if !router.problems.isEmpty {
                problems.append("router: \(plural(router.problems.count, "problem")), first: \(router.problems[0])")
                affected.insert(.router)
            }
            if router.peersEstablished < router.peersConfigured {
                problems.append("router: \(router.peersEstablished) of \(router.peersConfigured) BGP peers established")
                affected.insert(.router)
            } else {
                notes.append("\(router.peersEstablished) of \(router.peersConfigured) BGP peers established")
            }
        }
        if agent.socketAnswers == true { notes.append("the control socket answers") }
        guard problems.isEmpty else {
            return DoctorCheck(
                id: id, status: .warn, message: problems.joined(separator: "; "),
                fix: "read the agent's log (kubectl -n kube-system logs ds/kube-router); krctl bgp peers, krctl ipvs "
                    + "and krctl explain-policy show the details",
                controllers: affected.sorted())
        }
        return DoctorCheck(
            id: id, status: .ok, message: notes.joined(separator: "; "), controllers: statuses.map(\.0))
    }
}
