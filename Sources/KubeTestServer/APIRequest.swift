import Foundation
import KubeAPI
import KubeModel

/// One parsed request.
struct APIRequest: Sendable {
    var method: String
    var path: String
    var query: [String: String]
    var contentType: String
    /// The Accept header: kubectl asks for `as=Table` to print what the server formats.
    var accept: String = ""
    var body: Data
    /// The authenticated user (client-certificate CN or token owner).
    var user: String
}
