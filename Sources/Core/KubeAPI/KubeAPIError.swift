import CCurl
import Foundation
import KubeModel

/// What went wrong talking to the API server, worded so that the operator knows what to fix.
public enum KubeAPIError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Could not reach the server (refused, DNS, timeout, connection dropped).
    case unreachable(String)
    /// TLS failed: untrusted server certificate, bad client certificate, handshake.
    case tls(String)
    /// The server answered with an error status.
    case status(code: Int, reason: String, message: String)
    /// Something local (libcurl setup, bad response body).
    case transport(String)

    public var description: String {
        switch self {
        case .unreachable(let s), .tls(let s), .transport(let s): s
        case .status(let code, let reason, let message): "\(reason) (\(code)): \(message)"
        }
    }

    /// HTTP status, when the server answered.
    public var statusCode: Int? { if case .status(let code, _, _) = self { code } else { nil } }

    static func from(curl code: CURLcode, detail: String, server: String, config: KubeConfig) -> KubeAPIError {
        switch code {
        case CURLE_COULDNT_CONNECT:
            return .unreachable(
                "cannot connect to the API server \(server): \(detail) "
                    + "(is it running, and is the address right in \(config.origin)?)"
            )
        case CURLE_COULDNT_RESOLVE_HOST:
            return .unreachable("cannot resolve the API server's host in \(server): \(detail)")
        case CURLE_OPERATION_TIMEDOUT:
            return .unreachable("the API server \(server) did not answer in time: \(detail)")
        case CURLE_PEER_FAILED_VERIFICATION:
            return .tls(
                "the API server's TLS certificate is not trusted: \(detail) "
                    + "(check certificate-authority for \(config.origin))"
            )
        case CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER:
            return .tls("the client certificate or key of user \"\(config.user)\" cannot be used: \(detail)")
        case CURLE_SSL_CONNECT_ERROR:
            return .tls("TLS handshake with \(server) failed: \(detail)")
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE:
            return .unreachable("the connection to \(server) was dropped: \(detail)")
        default:
            return .transport("request to \(server) failed: \(detail)")
        }
    }
}
