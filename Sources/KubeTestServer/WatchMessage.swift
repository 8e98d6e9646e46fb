import Foundation
import KubeAPI
import KubeModel

/// What a watch connection receives.
enum WatchMessage: Sendable {
    case event(type: String, object: JSONValue)
    case bookmark
    case timeout
    /// Close the connection abruptly, mid-stream (test hook).
    case drop
}
