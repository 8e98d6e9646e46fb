import CIPTables
import Foundation
import KubeModel
import Planning

/// Runs work on a dedicated thread inside a named network namespace (`ip netns add NAME`): netfilter
/// state is per namespace, and switching namespaces must never happen on a shared pool thread.
public enum NetworkNamespace {
    public static func run<T: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        let result = Locked<Swift.Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            guard kr_setns_path("/run/netns/\(name)") == 0 else {
                result.set(.failure(IPTablesTable.Failure(description: "cannot enter network namespace \(name)")))
                return
            }
            result.set(Result { try body() })
        }
        thread.start()
        done.wait()
        guard let outcome = result.get() else {
            throw IPTablesTable.Failure(description: "the thread in network namespace \(name) ended without a result")
        }
        return try outcome.get()
    }
}
