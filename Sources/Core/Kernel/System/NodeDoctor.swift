import Foundation
import KubeModel
import Planning

/// The node checks in one call, for `krctl doctor` and for the agent (at start and every 10 minutes):
/// read the node (`NodeFactsReader`), judge it (`NodeDiagnosis`, pure).
///
/// The agent asks the API first (`KubeClient.doctorAPIFacts(node:requests:)` with
/// `DoctorCatalog.accessRequests(for: enabled)`), passes no `stateDir` (it is the agent), exports each
/// check's status and keeps `/readyz` red while `report.blocking(enabled)` is not empty.
public enum NodeDoctor {
    public static func run(
        root: String = "/", stateDir: String? = nil, api: DoctorAPIFacts? = nil,
        controllers: Set<DoctorController> = Set(DoctorController.allCases),
        cniConfDir: String = "/etc/cni/net.d", cniBinDir: String = "/opt/cni/bin"
    ) -> DoctorReport {
        let facts = NodeFactsReader(
            root: root, stateDir: stateDir, cniConfDir: cniConfDir, cniBinDir: cniBinDir, api: api
        ).read()
        return NodeDiagnosis.evaluate(facts, enabled: controllers)
    }
}
