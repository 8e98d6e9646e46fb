import Foundation
import KubeModel

extension KubeClient {
    /// The path SelfSubjectAccessReviews are created at.
    public static let accessReviewPath = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"

    /// Asks the API server, one SelfSubjectAccessReview each, whether these credentials may do what
    /// `requests` name. Throws when the server cannot be asked (unreachable, credentials refused, no
    /// authorization API): that is not an answer.
    public func reviewAccess(_ requests: [AccessReview.Request]) throws -> [AccessReview] {
        try requests.map { request in
            let answer = try send(
                "POST", Self.accessReviewPath, body: request.body.jsonData(), what: "review access (\(request))")
            guard let review = AccessReview(request: request, answer: answer) else {
                throw KubeAPIError.transport("review access (\(request)): the answer has no status.allowed")
            }
            return review
        }
    }
}
