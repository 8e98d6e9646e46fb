import Foundation
import KubeAPI
import KubeModel
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// HTTPS (or plain HTTP) front of the test API server: authentication, then the router; watches are
/// streamed as one JSON event per line, with bookmarks.
public struct HTTPServer: Sendable {
    public struct Auth: Sendable {
        /// Bearer token → user name.
        var tokens: [String: String]
        /// When false, requests without credentials are served as user "anonymous".
        var required: Bool

        public init(tokens: [String: String], required: Bool) {
            self.tokens = tokens
            self.required = required
        }
    }

    public init(router: Router, store: APIStore, auth: Auth, bookmarkInterval: Double) {
        self.router = router
        self.store = store
        self.auth = auth
        self.bookmarkInterval = bookmarkInterval
    }

    let router: Router
    let store: APIStore
    let auth: Auth
    let bookmarkInterval: Double

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    public func run(host: String, port: Int, tls: NIOSSLContext?, onListening: @Sendable (Int) -> Void) async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return (try Connection(wrappingChannelSynchronously: channel), channel)
                }
            }
        onListening(server.channel.localAddress?.port ?? port)
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { inbound in
                for try await (connection, channel) in inbound {
                    group.addTask { await serve(connection, channel: channel, tls: tls != nil) }
                }
            }
        }
    }

    private func serve(_ connection: Connection, channel: any Channel, tls: Bool) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body = ByteBuffer()
                for try await part in inbound {
                    switch part {
                    case .head(let h):
                        head = h
                        body.clear()
                    case .body(var chunk): body.writeBuffer(&chunk)
                    case .end:
                        guard let h = head else { continue }
                        let keepGoing = try await respond(
                            to: h, body: body, channel: channel, tls: tls, outbound: outbound)
                        if !keepGoing { return }
                    }
                }
            }
        } catch {
            // A client that goes away mid-answer is normal (kubectl get -w interrupted); nothing to do.
        }
    }

    /// Answers one request; returns false when the connection must close.
    private func respond(
        to head: HTTPRequestHead, body: ByteBuffer, channel: any Channel, tls: Bool,
        outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws -> Bool {
        let (path, query) = Self.split(head.uri)
        guard let user = await authenticate(head, channel: channel, tls: tls) else {
            let status = APIError(code: 401, reason: "Unauthorized", message: "Unauthorized").status
            try await writeJSON(401, status, head: head, outbound: outbound)
            return true
        }
        var request = APIRequest(
            method: head.method.rawValue, path: path, query: query,
            contentType: head.headers.first(name: "content-type") ?? "application/json",
            body: Data(body.readableBytesView), user: user)
        request.accept = head.headers.first(name: "accept") ?? ""
        switch await router.handle(request) {
        case .json(let code, let value):
            try await writeJSON(code, value, head: head, outbound: outbound)
            return true
        case .text(let code, let text):
            try await write(
                code, contentType: "text/plain", body: ByteBuffer(string: text), head: head, outbound: outbound)
            return true
        case .raw(let code, let contentType, let data):
            try await write(
                code, contentType: contentType, body: ByteBuffer(bytes: data), head: head, outbound: outbound)
            return true
        case .watch(let resource, let filter, let from, let timeout, let bookmarks):
            return try await streamWatch(
                resource: resource, filter: filter, from: from, timeout: timeout, bookmarks: bookmarks,
                head: head, outbound: outbound)
        }
    }

    private func authenticate(_ head: HTTPRequestHead, channel: any Channel, tls: Bool) async -> String? {
        if let header = head.headers.first(name: "authorization"), header.hasPrefix("Bearer ") {
            return auth.tokens[String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)]
        }
        if tls, let certificate = try? await channel.nioSSL_peerCertificate().get() {
            // NIOSSLCertificate's description carries the subject's common name.
            let text = certificate.description
            if let range = text.range(of: "common_name=") {
                let rest = text[range.upperBound...]
                return String(rest.prefix { $0 != ";" && $0 != ">" })
            }
            return "unknown-certificate"
        }
        return auth.required ? nil : "anonymous"
    }

    private func streamWatch(
        resource: APIResource, filter: ObjectFilter, from: String?, timeout: Int, bookmarks: Bool,
        head: HTTPRequestHead, outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws -> Bool {
        let id: UUID
        let stream: AsyncStream<WatchMessage>
        do {
            (id, stream) = try await store.watch(resource, filter: filter, from: from)
        } catch let error as APIError {
            try await writeJSON(error.code, error.status, head: head, outbound: outbound)
            return true
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "transfer-encoding", value: "chunked")
        try await outbound.write(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers)))
        let store = self.store
        let interval = bookmarkInterval
        // Timers feed the same stream as the store's events, so one loop writes everything in order.
        let timers = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    try? await Task.sleep(for: .seconds(timeout))
                    await store.yield(.timeout, to: id)
                }
                if bookmarks {
                    group.addTask {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: .seconds(interval))
                            await store.yield(.bookmark, to: id)
                        }
                    }
                }
            }
        }
        defer { timers.cancel() }
        do {
            for await message in stream {
                switch message {
                case .event(let type, let object):
                    try await writeLine(.object(["type": .string(type), "object": object]), outbound)
                case .bookmark:
                    guard await !store.isStalled(id) else { continue }
                    let version = await store.rv
                    let object: JSONValue = .object([
                        "kind": .string(resource.kind), "apiVersion": .string(resource.apiVersion),
                        "metadata": .object(["resourceVersion": .string(String(version))]),
                    ])
                    try await writeLine(.object(["type": "BOOKMARK", "object": object]), outbound)
                case .timeout:
                    await store.unwatch(id)
                    try await outbound.write(.end(nil))
                    return true
                case .drop:
                    await store.unwatch(id)
                    throw CancellationError()
                }
            }
        } catch {
            await store.unwatch(id)
            throw error
        }
        return true
    }

    private func writeLine(
        _ value: JSONValue, _ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        var buffer = ByteBuffer(bytes: value.jsonData())
        buffer.writeString("\n")
        try await outbound.write(.body(.byteBuffer(buffer)))
    }

    private func writeJSON(
        _ code: Int, _ value: JSONValue, head: HTTPRequestHead,
        outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        try await write(
            code, contentType: "application/json", body: ByteBuffer(bytes: value.jsonData()), head: head,
            outbound: outbound)
    }

    private func write(
        _ code: Int, contentType: String, body: ByteBuffer, head: HTTPRequestHead,
        outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(body.readableBytes))
        try await outbound.write(
            .head(HTTPResponseHead(version: head.version, status: .init(statusCode: code), headers: headers)))
        try await outbound.write(.body(.byteBuffer(body)))
        try await outbound.write(.end(nil))
    }

    static func split(_ uri: String) -> (String, [String: String]) {
        guard let q = uri.firstIndex(of: "?") else { return (uri, [:]) }
        var query: [String: String] = [:]
        for pair in uri[uri.index(after: q)...].split(separator: "&") {
            // `=` alone (no name) once trapped here (found by scripts/fuzz http): a pair without a name is skipped.
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            guard let name = kv.first, !name.isEmpty else { continue }
            query[name] = kv.count > 1 ? kv[1] : ""
        }
        return (String(uri[..<q]), query)
    }
}

extension APIStore {
    func yield(_ message: WatchMessage, to id: UUID) {
        yieldToWatcher(message, id)
    }
}
