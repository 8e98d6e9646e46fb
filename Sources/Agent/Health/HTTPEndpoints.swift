import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The agent's HTTP listeners (health probes, metrics): plain HTTP/1.1 on SwiftNIO. A request is answered
/// from its path alone; bodies are not read (more than `maxBody` bytes closes the connection), malformed
/// requests get a 400 from NIO's decoder, and a connection idle for `idleTimeout` is closed, so no client
/// can hold the probes up: they are answered on the event loop from in-memory state, while slow handlers
/// (metrics) run on a thread pool.
enum HTTPEndpoints {
    struct Request: Sendable {
        var method: HTTPMethod
        var path: String
        var queryItems: [String: String]
        var accept: String
    }

    struct Response: Sendable {
        var status: HTTPResponseStatus
        var contentType: String
        var body: [UInt8]

        static func text(_ status: HTTPResponseStatus, _ text: String) -> Response {
            Response(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
        }
    }

    struct Route: Sendable {
        var path: String
        /// Runs on a thread pool instead of the event loop (it may take a while).
        var slow: Bool
        var handle: @Sendable (Request) -> Response
    }

    static let maxBody = 16 * 1024
    static let idleTimeout = TimeAmount.seconds(10)

    /// Binds `host:port` (port 0: a free one; the bound channel says which) and serves `routes`.
    static func start(
        host: String, port: Int, routes: [Route], group: any EventLoopGroup, pool: NIOThreadPool
    ) throws -> any Channel {
        let table = Dictionary(routes.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        return try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(routes: table, pool: pool))
                }
            }
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .bind(host: host, port: port).wait()
    }

    final class RequestHandler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let routes: [String: Route]
        private let pool: NIOThreadPool
        private var head: HTTPRequestHead?
        private var bodyBytes = 0
        private var refused = false

        init(routes: [String: Route], pool: NIOThreadPool) {
            self.routes = routes
            self.pool = pool
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                bodyBytes = 0
            case .body(let buffer):
                bodyBytes += buffer.readableBytes
                if bodyBytes > HTTPEndpoints.maxBody && !refused {
                    refused = true
                    respond(
                        context, .text(.payloadTooLarge, "request body larger than \(HTTPEndpoints.maxBody) bytes\n"),
                        keepAlive: false)
                }
            case .end:
                guard let head, !refused else { return }
                self.head = nil
                answer(context, head)
            }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is IdleStateHandler.IdleStateEvent {
                context.close(promise: nil)
            } else {
                context.fireUserInboundEventTriggered(event)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }

        private func answer(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
            let keepAlive = head.isKeepAlive
            let (path, query) = Self.split(head.uri)
            guard let route = routes[path] else {
                respond(context, .text(.notFound, "404 page not found\n"), keepAlive: keepAlive)
                return
            }
            guard head.method == .GET || head.method == .HEAD else {
                respond(context, .text(.methodNotAllowed, "only GET and HEAD\n"), keepAlive: keepAlive)
                return
            }
            let request = Request(
                method: head.method, path: path, queryItems: query,
                accept: head.headers.first(name: "accept") ?? "")
            if route.slow {
                let loop = context.eventLoop
                let bound = NIOLoopBound((self, context), eventLoop: loop)
                pool.runIfActive(eventLoop: loop) { route.handle(request) }.whenComplete { result in
                    let (handler, context) = bound.value
                    switch result {
                    case .success(let response): handler.respond(context, response, keepAlive: keepAlive, head: head)
                    case .failure:
                        handler.respond(context, .text(.serviceUnavailable, "shutting down\n"), keepAlive: false)
                    }
                }
            } else {
                respond(context, route.handle(request), keepAlive: keepAlive, head: head)
            }
        }

        private func respond(
            _ context: ChannelHandlerContext, _ response: Response, keepAlive: Bool, head: HTTPRequestHead? = nil
        ) {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: response.contentType)
            headers.add(name: "Content-Length", value: String(response.body.count))
            headers.add(name: "Cache-Control", value: "no-cache")
            headers.add(name: "X-Content-Type-Options", value: "nosniff")
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            let responseHead = HTTPResponseHead(
                version: head?.version ?? .http1_1, status: response.status, headers: headers)
            context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
            if head?.method != .HEAD {
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
            }
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive {
                let channel = context.channel
                done.whenComplete { _ in channel.close(promise: nil) }
            }
        }

        /// `/readyz?verbose&x=1` → ("/readyz", ["verbose": "", "x": "1"]).
        static func split(_ uri: String) -> (String, [String: String]) {
            guard let mark = uri.firstIndex(of: "?") else { return (uri, [:]) }
            var items: [String: String] = [:]
            for pair in uri[uri.index(after: mark)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                items[String(parts[0]).removingPercentEncoding ?? String(parts[0])] =
                    parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            }
            return (String(uri[..<mark]), items)
        }
    }
}
