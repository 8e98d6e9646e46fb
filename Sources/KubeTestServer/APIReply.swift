import Foundation
import KubeAPI
import KubeModel

/// What to send back: a whole JSON answer, or a watch stream.
enum APIReply: Sendable {
    case json(Int, JSONValue)
    case text(Int, String)
    case raw(Int, contentType: String, Data)
    case watch(resource: APIResource, filter: ObjectFilter, from: String?, timeout: Int, bookmarks: Bool)
}
