import Foundation
import NIOCore
import NIOPosix

/// The agent's HTTP listeners and the event loop and thread pool they run on.
final class AgentEndpoints: @unchecked Sendable {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let pool = NIOThreadPool(numberOfThreads: 1)
    private let lock = NSLock()
    private var channels: [any Channel] = []

    init() { pool.start() }

    /// The ports bound (useful when 0 asked for a free one).
    var ports: [Int] { lock.withLock { channels.compactMap { $0.localAddress?.port } } }

    func listen(host: String, port: Int, routes: [HTTPEndpoints.Route]) throws {
        let channel = try HTTPEndpoints.start(host: host, port: port, routes: routes, group: group, pool: pool)
        lock.withLock { channels.append(channel) }
    }

    func stop() {
        let all = lock.withLock {
            defer { channels = [] }
            return channels
        }
        for channel in all { try? channel.close().wait() }
    }
}
