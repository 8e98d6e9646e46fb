import CCurl
import Foundation
import KubeModel

/// One HTTP request/response over libcurl. Every call blocks its thread for the life of the transfer:
/// callers run it on a dedicated thread (reflectors) or from synchronous code (krctl), never on
/// Swift's cooperative pool.
public final class CurlTransport: @unchecked Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var body: Data
    }

    public let config: KubeConfig
    /// Serialises the reusable handle (kept for connection reuse across list pages).
    private let lock = NSLock()
    private var handle: UnsafeMutableRawPointer?

    private static let globalInit: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    public init(config: KubeConfig) {
        _ = Self.globalInit
        self.config = config
    }

    deinit {
        if let handle { curl_easy_cleanup(handle) }
    }

    /// A request whose body is read whole.
    public func request(
        method: String, path: String, body: Data? = nil, contentType: String = "application/json",
        timeout: Double = 60
    ) throws -> Response {
        lock.lock()
        defer { lock.unlock() }
        if handle == nil { handle = curl_easy_init() }
        guard let handle else { throw KubeAPIError.transport("cannot create a libcurl handle") }
        curl_easy_reset(handle)
        var collected = Data()
        let status = try perform(
            handle, method: method, path: path, body: body, contentType: contentType,
            timeout: timeout, stallSeconds: nil
        ) { chunk, _ in
            collected.append(contentsOf: chunk)
            return true
        }
        return Response(status: status, body: collected)
    }

    /// A streaming request (a watch): `onData` receives the body as it arrives, with the response's HTTP
    /// status, and returns false to stop. The transfer is aborted when no byte arrives for `stallSeconds`
    /// (a stalled watch).
    /// `shouldStop` is polled while the stream is idle, so that a quiet watch can be cancelled promptly.
    public func stream(
        method: String = "GET", path: String, timeout: Double, stallSeconds: Int,
        shouldStop: (() -> Bool)? = nil,
        onData: @escaping (UnsafeRawBufferPointer, Int) -> Bool
    ) throws -> Int {
        guard let handle = curl_easy_init() else { throw KubeAPIError.transport("cannot create a libcurl handle") }
        defer { curl_easy_cleanup(handle) }
        return try perform(
            handle, method: method, path: path, body: nil, contentType: "application/json",
            timeout: timeout, stallSeconds: stallSeconds, shouldStop: shouldStop, onData: onData)
    }

    /// Holds the Swift closure that the C write callback forwards to.
    private final class Sink {
        let onData: (UnsafeRawBufferPointer, Int) -> Bool
        let handle: UnsafeMutableRawPointer
        var aborted = false
        var shouldStop: (() -> Bool)?
        init(_ handle: UnsafeMutableRawPointer, _ onData: @escaping (UnsafeRawBufferPointer, Int) -> Bool) {
            self.handle = handle
            self.onData = onData
        }
    }

    private func perform(
        _ h: UnsafeMutableRawPointer, method: String, path: String, body: Data?, contentType: String,
        timeout: Double, stallSeconds: Int?, shouldStop: (() -> Bool)? = nil,
        onData: @escaping (UnsafeRawBufferPointer, Int) -> Bool
    ) throws -> Int {
        let url = config.server + path
        var headers: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headers) }
        headers = curl_slist_append(headers, "Accept: application/json")
        headers = curl_slist_append(headers, "User-Agent: kube-router-swift/0.1")
        if let token = config.currentToken() {
            headers = curl_slist_append(headers, "Authorization: Bearer \(token)")
        } else if let problem = config.tokenFileProblem() {
            // Said as such, not as the server's "401 Unauthorized" for a request without credentials.
            throw KubeAPIError.transport(problem)
        }
        if body != nil { headers = curl_slist_append(headers, "Content-Type: \(contentType)") }

        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let sink = Sink(h, onData)
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }

        let code: CURLcode = try errorBuffer.withUnsafeMutableBufferPointer { errorPointer in
            try check(kr_curl_setopt_string(h, CURLOPT_URL, url), "URL \(url)")
            _ = kr_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
            _ = kr_curl_setopt_pointer(h, CURLOPT_ERRORBUFFER, errorPointer.baseAddress)
            _ = kr_curl_setopt_string(h, CURLOPT_CUSTOMREQUEST, method)
            _ = kr_curl_setopt_pointer(h, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headers))
            _ = kr_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, 10_000)
            _ = kr_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
            _ = kr_curl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1)
            if let stallSeconds {
                // No byte for stallSeconds (below 1 byte/s over that window) aborts the transfer.
                _ = kr_curl_setopt_long(h, CURLOPT_LOW_SPEED_LIMIT, 1)
                _ = kr_curl_setopt_long(h, CURLOPT_LOW_SPEED_TIME, stallSeconds)
            }
            if config.insecureSkipTLSVerify {
                _ = kr_curl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 0)
                _ = kr_curl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 0)
            } else if let ca = config.certificateAuthority {
                try ca.withUnsafeBytes {
                    try check(
                        kr_curl_setopt_blob(h, CURLOPT_CAINFO_BLOB, $0.baseAddress, $0.count), "certificate authority")
                }
            }
            if let cert = config.clientCertificate {
                _ = kr_curl_setopt_string(h, CURLOPT_SSLCERTTYPE, "PEM")
                try cert.withUnsafeBytes {
                    try check(
                        kr_curl_setopt_blob(h, CURLOPT_SSLCERT_BLOB, $0.baseAddress, $0.count), "client certificate")
                }
            }
            if let key = config.clientKey {
                _ = kr_curl_setopt_string(h, CURLOPT_SSLKEYTYPE, "PEM")
                try key.withUnsafeBytes {
                    try check(kr_curl_setopt_blob(h, CURLOPT_SSLKEY_BLOB, $0.baseAddress, $0.count), "client key")
                }
            }
            if let body {
                // COPYPOSTFIELDS copies the bytes, so the Data need not outlive this call.
                _ = kr_curl_setopt_long(h, CURLOPT_POSTFIELDSIZE, body.count)
                body.withUnsafeBytes {
                    _ = kr_curl_setopt_pointer(
                        h, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress))
                }
            }
            let write: kr_curl_write_fn = { pointer, size, count, userdata in
                let sink = Unmanaged<Sink>.fromOpaque(userdata!).takeUnretainedValue()
                let length = size * count
                var status = 0
                _ = kr_curl_getinfo_long(sink.handle, CURLINFO_RESPONSE_CODE, &status)
                let keepGoing = sink.onData(UnsafeRawBufferPointer(start: pointer, count: length), status)
                if !keepGoing {
                    sink.aborted = true
                    return 0
                }  // a short count aborts the transfer
                return length
            }
            _ = kr_curl_setopt_write(h, write, context.toOpaque())
            if let shouldStop {
                // Called about once a second even when no data flows: lets an idle watch be cancelled.
                sink.shouldStop = shouldStop
                let progress: kr_curl_progress_fn = { userdata, _, _, _, _ in
                    let sink = Unmanaged<Sink>.fromOpaque(userdata!).takeUnretainedValue()
                    if sink.shouldStop?() == true {
                        sink.aborted = true
                        return 1
                    }
                    return 0
                }
                _ = kr_curl_setopt_progress(h, progress, context.toOpaque())
            }
            return curl_easy_perform(h)
        }
        var status = 0
        _ = kr_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        if code == CURLE_OK || ((code == CURLE_WRITE_ERROR || code == CURLE_ABORTED_BY_CALLBACK) && sink.aborted) {
            return status
        }
        let message = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let detail = message.isEmpty ? String(cString: curl_easy_strerror(code)) : message
        throw KubeAPIError.from(curl: code, detail: detail, server: config.server, config: config)
    }

    private func check(_ code: CURLcode, _ what: String) throws {
        guard code == CURLE_OK else {
            throw KubeAPIError.transport("libcurl rejected the \(what): \(String(cString: curl_easy_strerror(code)))")
        }
    }
}
