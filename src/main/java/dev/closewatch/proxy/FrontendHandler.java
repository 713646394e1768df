package dev.closewatch.proxy;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.observe.LogText;
import dev.closewatch.observe.RequestRejections.Reason;
import dev.closewatch.observe.UpstreamFailure;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import dev.closewatch.websocket.SessionFacts;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of a proxied connection during HTTP (RFC 6455 §4.1 opening handshake, and plain
 * HTTP/1.1 requests): enforces the connection and request limits, picks the route, connects an
 * upstream on this channel's event loop (round-robin over the route's upstreams and over every
 * address of each one's host name; the next address, then the next upstream, on a connect
 * failure), forwards the request with {@code X-Forwarded-*} headers (believed only from
 * {@code trusted_proxies}), answers 502 when no upstream can be
 * reached and 504 when it does not answer in time. The {@link BackendHandler} relays the response
 * and, on a 101, switches both channels to {@link RelayHandler}s.
 *
 * <p>One request at a time: a request pipelined behind another waits, decoded, until the response
 * to the one before is complete, so every response is paired with its request. After a WebSocket
 * upgrade request nothing more is parsed as HTTP: the server codec's decoder is removed, and bytes
 * the client sent early are held (at most {@value #MAX_EARLY_BYTES}) until the upstream answers; a
 * 101 relays them as the session's first bytes, any other answer drops them and closes.
 *
 * <p>Every decoded object's {@code decoderResult()} is checked: a request that fails to decode
 * anywhere (head or body) is answered 400 (or 414, 431, 505) and the connection is closed; if its
 * head already went upstream, the upstream connection is cut so that it never sees a terminator.
 *
 * <p>One timer per connection, re-armed by state: the request-head timeout
 * ({@code limits.handshake_timeout}, from accept or from a later request's first byte; 408), the
 * keep-alive timeout ({@code limits.keepalive_timeout}, from a complete response to the next
 * request's first byte; closed without an answer), the response timeout (504) and the lingering
 * close. Every answer of the proxy's own closes lingeringly: the response is flushed, the output
 * shut down, and what the client still sends is read and discarded (at most {@value #LINGER_BYTES}
 * bytes, {@link #LINGER_TIME}) before the close, so the client's unread request body cannot turn
 * the close into a reset that destroys the answer.
 */
final class FrontendHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(FrontendHandler.class);
    private static final String X_FORWARDED_FOR = "X-Forwarded-For";
    private static final String X_FORWARDED_PROTO = "X-Forwarded-Proto";
    private static final String X_FORWARDED_HOST = "X-Forwarded-Host";
    private static final String FORWARDED = "Forwarded";
    /** Bytes a client may send after an upgrade request before the upstream answers; more gets 400. */
    static final int MAX_EARLY_BYTES = 128 * 1024;
    /** Bytes read and discarded while closing lingeringly before the connection is closed anyway. */
    static final long LINGER_BYTES = 1024 * 1024;
    /** The longest a lingering close waits for the client to stop sending. */
    static final Duration LINGER_TIME = Duration.ofSeconds(2);

    /** What the connection's one timer is armed for. */
    private enum Timer { NONE, REQUEST_HEAD, KEEPALIVE, RESPONSE, LINGER }

    private final ProxySettings settings;
    private final boolean clientTls;
    /** The current request's objects waiting for the upstream connect. */
    private final Queue<HttpObject> pending = new ArrayDeque<>();
    /** Objects of later (pipelined) requests waiting for the current response to complete. */
    private final Queue<HttpObject> queued = new ArrayDeque<>();
    private final Runnable onTimer = this::timerFired;
    private Channel client;
    private Channel backend;
    private UpstreamPool.Upstream connectedUpstream;
    /**
     * The {@code client} field of the connection's session and log lines: the peer
     * ({@link ClientAddress}), or, from a trusted proxy, the client its {@code X-Forwarded-For} names.
     */
    private String clientAddress;
    /** {@link #clientAddress} without port. */
    private String clientIp;
    /** What the WebSocket upgrade in flight says about its client, for the session it opens. */
    private SessionFacts sessionFacts = SessionFacts.NONE;
    private boolean connecting;
    private boolean counted;
    private boolean overLimit;
    private Route route;
    /** The request in flight is a WebSocket upgrade. */
    private boolean upgradeRequest;
    /** A request is in flight: its head was accepted and its response is not complete. */
    private boolean inFlight;
    /** The in-flight request has been read completely. */
    private boolean requestDone;
    /** The final response head of the in-flight request has been relayed to the client. */
    private boolean responding;
    private boolean awaitingResponse;
    /** Answered here, cut, or timed out: nothing more is parsed or forwarded. */
    private boolean finished;
    private boolean lingering;
    private long discarded;
    /** An upgrade request's end was decoded: the decoder is gone, later bytes come raw. */
    private boolean parsingStopped;
    /** The last request queued is a WebSocket upgrade. */
    private boolean queuedUpgrade;
    /** Bytes the client sent after an upgrade request, before the upstream's answer. */
    private CompositeByteBuf early;
    private Timer timerKind = Timer.NONE;
    /** When the armed timer is due, on the event loop's ticker. */
    private long timerDue;
    /** When {@link #timer}, the scheduled wake-up, runs; at or before {@link #timerDue}. */
    private long timerWakeUp;
    private ScheduledFuture<?> timer;

    FrontendHandler(ProxySettings settings, boolean clientTls) {
        this.settings = settings;
        this.clientTls = clientTls;
    }

    /**
     * The strict HTTP/1.1 decoder settings of both legs: CR LF line endings only (RFC 9112 §2.2),
     * a Transfer-Encoding whose final coding is not chunked or that comes with a Content-Length is
     * a failure (RFC 9112 §6.1, §6.3), several Content-Length values are a failure, header names
     * and values are validated (RFC 9110 §5.5).
     */
    static HttpDecoderConfig strictDecoder(int maxInitialLineLength, int maxHeaderSize) {
        return new HttpDecoderConfig()
                .setMaxInitialLineLength(maxInitialLineLength)
                .setMaxHeaderSize(maxHeaderSize)
                .setMaxChunkSize(8192)
                .setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true)
                .setAllowDuplicateContentLengths(false)
                .setValidateHeaders(true);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        client = ctx.channel();
        counted = true;
        int open = settings.connections().incrementAndGet();
        int max = settings.limits().maxConnections();
        overLimit = max > 0 && open > max;
        arm(Timer.REQUEST_HEAD, settings.limits().handshakeTimeout());
        ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent done && !done.isSuccess()) {
            // RFC 6455 §7.4.1: 1015 — the TLS handshake with the client failed.
            LOG.atInfo().addKeyValue("event", "tls.handshake.failed").addKeyValue("connection", ctx.channel().id().asShortText())
                    .addKeyValue("client", ClientAddress.of(ctx.channel()))
                    .addKeyValue("detail", LogText.escape(done.cause().toString()))
                    .log("TLS handshake with the client failed");
            openFailed(settings.routes().fallback(), Initiator.CLIENT, "-");
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /** Records a 1015 for a would-be session whose TLS handshake failed. */
    private void openFailed(Route target, Initiator initiator, String upstreamAddress) {
        CloseCatalog catalog = settings.catalog();
        target.listener().onOpenFailed(new CloseEvent(client.id().asShortText(), target.name(),
                clientAddress(), upstreamAddress, CloseCatalog.TLS_HANDSHAKE,
                catalog.lookup(CloseCatalog.TLS_HANDSHAKE), "", initiator, false, false, Cause.TLS_HANDSHAKE,
                Instant.now(), Duration.ZERO, null, 0, 0));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (finished) {
            if (msg instanceof ByteBuf buf) {
                discarded += buf.readableBytes();
                if (lingering && discarded > LINGER_BYTES) {
                    ctx.close();
                }
            }
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof ByteBuf buf) {
            // Only after an upgrade request, when the decoder is gone: the session's first bytes, maybe.
            earlyBytes(buf);
            return;
        }
        if (!(msg instanceof HttpObject obj)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if ((inFlight && requestDone) || !queued.isEmpty()) {
            // Pipelined: it waits for the response before it; reading waits too, which bounds the queue.
            queued.add(obj);
            ctx.channel().config().setAutoRead(false);
            if (obj instanceof HttpRequest request) {
                queuedUpgrade = request.decoderResult().isSuccess() && isWebSocketUpgrade(request.headers());
            }
            if (obj instanceof LastHttpContent && queuedUpgrade) {
                // Nothing behind an upgrade request is parsed, even while it waits its turn.
                stopParsing();
            }
            return;
        }
        handle(obj);
    }

    /** One decoded object of the current request, or the head of the next one. */
    private void handle(HttpObject obj) {
        if (obj instanceof HttpRequest request) {
            if (!startRequest(request)) {
                return;
            }
        } else if (!inFlight || requestDone) {
            // The rest of a request answered early by the upstream: not forwarded.
            ReferenceCountUtil.release(obj);
            return;
        } else if (obj.decoderResult().isFailure()) {
            Throwable cause = obj.decoderResult().cause();
            ReferenceCountUtil.release(obj);
            failRequest(Reason.MALFORMED, "closewatch: bad request: invalid body: " + cause.getMessage());
            return;
        }
        boolean last = obj instanceof LastHttpContent;
        if (last && upgradeRequest && !queued.isEmpty()) {
            // A request decoded behind the upgrade request: its bytes are gone, so it cannot be
            // relayed as the session's first bytes; the upgrade is refused instead.
            ReferenceCountUtil.release(obj);
            failRequest(Reason.INVALID_UPGRADE, "closewatch: bad request: data sent behind a WebSocket upgrade request");
            return;
        }
        if (last) {
            requestDone = true;
        }
        forward(obj);
        if (last && upgradeRequest && !finished) {
            // RFC 6455 §4.1: the client waits for the answer. Nothing more is parsed as HTTP; reading
            // stays on (no epoll_ctl per handshake) until a first early byte turns it off.
            stopParsing();
        }
    }

    /**
     * Removes the server codec's decoder after an upgrade request: whatever it already holds comes
     * out of it raw (into {@link #earlyBytes}) instead of as another request.
     */
    private void stopParsing() {
        if (parsingStopped) {
            return;
        }
        parsingStopped = true;
        HttpServerCodec codec = client.pipeline().get(HttpServerCodec.class);
        if (codec != null) {
            codec.removeInboundHandler();
        }
    }

    private void forward(HttpObject obj) {
        if (backend != null && !connecting) {
            toBackend(obj);
            if (!backend.isWritable()) {
                client.config().setAutoRead(false);
            }
        } else {
            pending.add(obj);
        }
    }

    /**
     * Writes one object of the current request to the upstream. The empty end of an upgrade
     * request is not written: after it the client codec's encoder is removed (a 101) or the
     * connection closed (any other answer), and through the encoder it would be an empty buffer
     * behind the head, which turns the flush's {@code send(2)} into a {@code writev(2)}.
     */
    private void toBackend(HttpObject obj) {
        if (upgradeRequest && obj instanceof LastHttpContent last && !last.content().isReadable()
                && last.trailingHeaders().isEmpty()) {
            last.release();
        } else {
            backend.write(obj, backend.voidPromise());
        }
        if (obj instanceof LastHttpContent) {
            requestSent();
        }
    }

    private void earlyBytes(ByteBuf buf) {
        if (!parsingStopped) {
            ReferenceCountUtil.release(buf);
            return;
        }
        client.config().setAutoRead(false);
        if (early == null) {
            early = client.alloc().compositeBuffer();
        }
        early.addComponent(true, buf);
        if (early.readableBytes() > MAX_EARLY_BYTES) {
            failRequest(Reason.INVALID_UPGRADE, "closewatch: bad request: more than " + MAX_EARLY_BYTES
                    + " bytes sent before the upgrade was answered");
        }
    }

    /**
     * The bytes the client sent after its upgrade request, to be relayed first once both channels
     * relay; null if none. The caller owns them.
     */
    ByteBuf takeEarlyBytes() {
        ByteBuf taken = early;
        early = null;
        return taken;
    }

    /** Returns false if the request was answered here (and released). */
    private boolean startRequest(HttpRequest request) {
        cancelTimer();
        DecoderResult result = request.decoderResult();
        HttpHeaders headers = request.headers();
        HttpVersion version = request.protocolVersion();
        Reason rejection = null;
        String detail = null;
        Route selected = null;
        boolean upgrade = false;
        if (result.isFailure()) {
            Throwable cause = result.cause();
            rejection = cause instanceof TooLongHttpHeaderException ? Reason.HEADER_TOO_LARGE
                    : cause instanceof TooLongHttpLineException ? Reason.URI_TOO_LONG : Reason.MALFORMED;
            detail = "closewatch: " + HttpResponseStatus.valueOf(rejection.status()).reasonPhrase().toLowerCase(Locale.ROOT)
                    + ": " + cause.getMessage();
        } else if (version.majorVersion() == 1 && version.minorVersion() <= 1
                && version != HttpVersion.HTTP_1_1 && version != HttpVersion.HTTP_1_0) {
            // Netty reads "HTtP/1.1" as HTTP/1.1 (a new instance, not its constant); RFC 9112 §2.3
            // makes HTTP-name case-sensitive, and an invalid request-line gets 400 (§3).
            rejection = Reason.MALFORMED;
            detail = "closewatch: bad request: the HTTP version must be written HTTP/1.1 or HTTP/1.0 (RFC 9112 §2.3)";
        } else if (version.majorVersion() != 1) {
            // RFC 9110 §15.6.6; also the HTTP/2 connection preface (PRI * HTTP/2.0), answered once.
            rejection = Reason.VERSION_NOT_SUPPORTED;
            detail = "closewatch: HTTP version not supported: " + version.text() + " (expected: HTTP/1.1)";
        } else if (hostCount(headers) > 1 || (version.minorVersion() >= 1 && !headers.contains(HttpHeaderNames.HOST))) {
            rejection = Reason.INVALID_HOST;
            detail = "closewatch: bad request: exactly one Host header is required (RFC 9112 §3.2)";
        } else if (overLimit) {
            rejection = Reason.MAX_CONNECTIONS;
            detail = "closewatch: too many connections (limits.max_connections " + settings.limits().maxConnections() + ")";
        } else if (settings.draining().get() && backend == null) {
            rejection = Reason.DRAINING;
            detail = "closewatch: shutting down";
        } else if ((upgrade = isWebSocketUpgrade(headers)) && version.minorVersion() < 1) {
            rejection = Reason.INVALID_UPGRADE;
            detail = "closewatch: bad request: a WebSocket upgrade needs HTTP/1.1 (RFC 6455 §4.1)";
        } else if (upgrade && (HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) != 0)) {
            // RFC 6455 §4.1: the opening handshake is a GET without content; with one, where the
            // frames begin would be the upstream's guess.
            rejection = Reason.INVALID_UPGRADE;
            detail = "closewatch: bad request: a WebSocket upgrade request has no body (RFC 6455 §4.1)";
        } else {
            selected = settings.routes().select(headers.get(HttpHeaderNames.HOST), request.uri());
            if (selected == null) {
                rejection = Reason.NO_ROUTE;
                detail = "closewatch: no route for this host and path";
            } else if (route != null && selected != route && backend != null) {
                // One upstream connection per client connection: a keep-alive request for another
                // route is refused rather than silently sent to the wrong upstream.
                rejection = Reason.MISDIRECTED;
                detail = "closewatch: this connection is bound to route " + route.name() + "; open a new connection";
            }
        }
        if (rejection != null) {
            reject(rejection, detail, request);
            ReferenceCountUtil.release(request);
            return false;
        }
        route = selected;
        inFlight = true;
        requestDone = false;
        responding = false;
        upgradeRequest = upgrade;
        if (version.minorVersion() > 1) {
            // RFC 9110 §2.5: an intermediary sends its own version (a higher minor version is 1.1 to us).
            request.setProtocolVersion(HttpVersion.HTTP_1_1);
        }
        addForwardedHeaders(headers);
        if (upgrade) {
            sessionFacts = sessionFacts(request);
        }
        if (backend == null && !connecting) {
            connect(route.upstreams().candidates(), 0);
        }
        if (connectedUpstream != null) {
            toUpstream(request, connectedUpstream);
        }
        return true;
    }

    private static int hostCount(HttpHeaders headers) {
        return headers.contains(HttpHeaderNames.HOST) ? headers.getAll(HttpHeaderNames.HOST).size() : 0;
    }

    /** Answers {@code reason}'s status for the request (may be null) and closes lingeringly. */
    private void reject(Reason reason, String detail, HttpRequest request) {
        settings.rejections().rejected(reason);
        String escaped = LogText.escape(detail);
        var line = LOG.atInfo().addKeyValue("event", "http.request.rejected").addKeyValue("connection", client.id().asShortText())
                .addKeyValue("client", clientAddress())
                .addKeyValue("status", reason.status()).addKeyValue("reason", reason.label());
        if (request != null && request.decoderResult().isSuccess()) {
            line = line.addKeyValue("method", LogText.escape(request.method().name()))
                    .addKeyValue("target", LogText.escape(request.uri()));
        }
        line.addKeyValue("detail", escaped).log("rejected request");
        finish(HttpResponseStatus.valueOf(reason.status()), escaped);
    }

    /**
     * The request failed after its head was accepted (a body that does not decode, bytes or
     * requests behind an upgrade): the upstream connection is cut so that it never sees the
     * request end, and the client gets 400, or is cut if the response had already begun.
     */
    private void failRequest(Reason reason, String detail) {
        finished = true;
        if (responding) {
            settings.rejections().rejected(reason);
            LOG.atInfo().addKeyValue("event", "http.request.rejected").addKeyValue("connection", client.id().asShortText())
                    .addKeyValue("client", clientAddress())
                    .addKeyValue("status", 0).addKeyValue("reason", reason.label())
                    .addKeyValue("detail", LogText.escape(detail)).log("rejected request; response under way, connection cut");
            cut();
            return;
        }
        reject(reason, detail, null);
    }

    static boolean isWebSocketUpgrade(HttpHeaders headers) {
        return headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
                && headers.contains(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
    }

    /**
     * Sets {@code X-Forwarded-For}, {@code -Proto} and {@code -Host} for the upstream, and this
     * request's {@link #clientAddress}. From a peer in {@code trusted_proxies} (the connection's
     * immediate peer: the TCP peer, or the PROXY header's source) the headers it sent are believed:
     * the peer is appended to its {@code X-Forwarded-For} (every field line, read as one list), its
     * {@code -Proto} and {@code -Host} pass on, and the client is the right-most address of the list
     * that is not a trusted proxy. From any other peer they are replaced by what closewatch saw,
     * and a {@code Forwarded} header (RFC 7239) is removed: a client cannot make up its own address.
     */
    private void addForwardedHeaders(HttpHeaders headers) {
        SocketAddress peer = ClientAddress.peer(client);
        InetAddress peerIp = peer instanceof InetSocketAddress inet ? inet.getAddress() : null;
        String ip = peerIp != null ? peerIp.getHostAddress() : String.valueOf(peer);
        boolean trusted = peerIp != null && settings.trustedProxies().trusts(peerIp);
        List<String> chain = trusted ? TrustedProxies.elements(headers.getAll(X_FORWARDED_FOR)) : List.of();
        clientAddress = chain.isEmpty() ? ClientAddress.of(client) : settings.trustedProxies().client(chain, peerIp);
        clientIp = chain.isEmpty() ? ip : clientAddress;
        if (!trusted) {
            // RFC 7239's Forwarded says the same as X-Forwarded-*, and is as easy to make up.
            headers.remove(FORWARDED);
        }
        headers.set(X_FORWARDED_FOR, chain.isEmpty() ? ip : String.join(", ", chain) + ", " + ip);
        String proto = trusted ? headers.get(X_FORWARDED_PROTO) : null;
        headers.set(X_FORWARDED_PROTO, proto != null ? proto : clientTls ? "https" : "http");
        String forwardedHost = trusted ? headers.get(X_FORWARDED_HOST) : null;
        String host = headers.get(HttpHeaderNames.HOST);
        if (forwardedHost != null) {
            headers.set(X_FORWARDED_HOST, forwardedHost);
        } else if (host != null) {
            headers.set(X_FORWARDED_HOST, host);
        } else {
            headers.remove(X_FORWARDED_HOST);
        }
    }

    /** Facts of an upgrade request: client key, address, {@code User-Agent}, {@code Origin}, path without query. */
    private SessionFacts sessionFacts(HttpRequest request) {
        HttpHeaders headers = request.headers();
        String target = request.uri();
        int scheme = target.startsWith("/") ? -1 : target.indexOf("://");
        if (scheme >= 0) {
            // absolute-form (RFC 9112 §3.2.2): the path starts after the authority
            int slash = target.indexOf('/', scheme + 3);
            target = slash < 0 ? "/" : target.substring(slash);
        }
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        String query = q < 0 ? null : target.substring(q + 1);
        String key = settings.keySource().extract(clientIp, headers::get, query);
        return new SessionFacts(key, clientIp, headers.get(HttpHeaderNames.USER_AGENT), headers.get(HttpHeaderNames.ORIGIN), path);
    }

    /** What the last WebSocket upgrade request said about its client. */
    SessionFacts sessionFacts() {
        return sessionFacts;
    }

    /** The {@code client} field: the current request's client, or the connection's peer before any request. */
    String clientAddress() {
        return clientAddress != null ? clientAddress : ClientAddress.of(client);
    }

    /** Rewrites a request head for {@code upstream}: its path prefix, and its Host with {@code host_header: upstream}. */
    private void toUpstream(HttpRequest request, UpstreamPool.Upstream upstream) {
        request.setUri(upstream.uri().target(request.uri()));
        if (route.hostHeaderUpstream()) {
            // RFC 9110 §7.2: the Host of the upstream as configured; X-Forwarded-Host keeps the client's.
            request.headers().set(HttpHeaderNames.HOST, upstream.uri().address().toString());
        }
    }

    /**
     * Resolves {@code candidates.get(index)} (every address of its host name) and connects one of
     * its addresses; on failure the next address, then the next upstream, then 502.
     */
    private void connect(List<UpstreamPool.Upstream> candidates, int index) {
        connecting = true;
        if (!upgradeRequest) {
            // A body read while connecting would queue without bound. An upgrade request has none
            // (startRequest refuses one), and what follows it is held as early bytes, which stop
            // reading themselves: no autoRead toggle (two epoll_ctl) per WebSocket handshake.
            client.config().setAutoRead(false);
        }
        UpstreamPool.Upstream upstream = candidates.get(index);
        Route forRoute = route;
        settings.connector().resolveAll(client, upstream.uri().address()).addListener(f -> {
            if (finished || !client.isActive()) {
                connecting = false;
                return;
            }
            if (!f.isSuccess()) {
                forRoute.upstreams().unresolved(upstream);
                UpstreamFailure failure = UpstreamFailure.UNRESOLVED;
                forRoute.meters().upstream(upstream.label()).failure(failure);
                LOG.atWarn().addKeyValue("event", "upstream.connect.failed").addKeyValue("connection", client.id().asShortText())
                        .addKeyValue("route", forRoute.name()).addKeyValue("upstream", upstream.label())
                        .addKeyValue("cause", failure.label()).addKeyValue("detail", LogText.escape(f.cause().toString()))
                        .log("upstream host name did not resolve");
                nextUpstream(candidates, index, failure, f.cause());
                return;
            }
            @SuppressWarnings("unchecked")
            List<InetSocketAddress> resolved = (List<InetSocketAddress>) f.getNow();
            // A stand-in connector answers unresolved addresses: nothing to balance or eject.
            List<InetSocketAddress> addresses = anyUnresolved(resolved) ? resolved : forRoute.upstreams().resolved(upstream, resolved);
            connect(candidates, index, addresses, 0);
        });
    }

    private static boolean anyUnresolved(List<InetSocketAddress> addresses) {
        for (int i = 0; i < addresses.size(); i++) {
            if (addresses.get(i).isUnresolved()) {
                return true;
            }
        }
        return false;
    }

    /** The upstream at {@code index} failed for good: the next one, or 502 when none is left. */
    private void nextUpstream(List<UpstreamPool.Upstream> candidates, int index, UpstreamFailure failure, Throwable cause) {
        backend = null;
        if (index + 1 < candidates.size() && client.isActive()) {
            connect(candidates, index + 1);
        } else {
            connecting = false;
            upstreamFailed(failure, cause.toString(), false);
        }
    }

    /** Connects {@code addresses.get(at)} of upstream {@code candidates.get(index)}; on failure the next address. */
    private void connect(List<UpstreamPool.Upstream> candidates, int index, List<InetSocketAddress> addresses, int at) {
        UpstreamPool.Upstream upstream = candidates.get(index);
        InetSocketAddress address = addresses.get(at);
        Route forRoute = route;
        // The BackendHandler puts the client codec (and TLS) in front of itself when it is added:
        // no ChannelInitializer (an object, a map and a pipeline add and remove) per connect.
        ChannelFuture f = settings.connector().connect(client, address,
                new BackendHandler(this, client, upstream.uri().tls() ? upstream.uri() : null));
        backend = f.channel();
        f.addListener((ChannelFutureListener) future -> {
            if (!future.isSuccess()) {
                UpstreamFailure failure = classify(future.cause());
                forRoute.meters().upstream(upstream.label()).failure(failure);
                forRoute.upstreams().failed(upstream, address);
                LOG.atWarn().addKeyValue("event", "upstream.connect.failed").addKeyValue("connection", client.id().asShortText())
                        .addKeyValue("route", forRoute.name()).addKeyValue("upstream", upstream.label())
                        .addKeyValue("address", BackendHandler.address(address))
                        .addKeyValue("cause", failure.label()).addKeyValue("detail", LogText.escape(future.cause().toString()))
                        .log("upstream connect failed");
                backend = null;
                if (finished) {
                    connecting = false;
                } else if (at + 1 < addresses.size() && client.isActive()) {
                    connect(candidates, index, addresses, at + 1);
                } else {
                    nextUpstream(candidates, index, failure, future.cause());
                }
                return;
            }
            if (!client.isActive() || finished) {
                future.channel().close();
                return;
            }
            if (upstream.uri().tls()) {
                future.channel().pipeline().get(SslHandler.class).handshakeFuture().addListener(hs -> {
                    if (finished) {
                        return;
                    }
                    if (hs.isSuccess()) {
                        connected(upstream, address);
                    } else {
                        connecting = false;
                        forRoute.upstreams().failed(upstream, address);
                        forRoute.meters().upstream(upstream.label()).failure(UpstreamFailure.TLS_HANDSHAKE);
                        LOG.atWarn().addKeyValue("event", "upstream.connect.failed").addKeyValue("connection", client.id().asShortText())
                                .addKeyValue("route", forRoute.name()).addKeyValue("upstream", upstream.label())
                                .addKeyValue("address", BackendHandler.address(address))
                                .addKeyValue("cause", UpstreamFailure.TLS_HANDSHAKE.label())
                                .addKeyValue("detail", LogText.escape(hs.cause().toString()))
                                .log("upstream TLS handshake failed");
                        if (upgradeRequest) {
                            openFailed(forRoute, Initiator.UPSTREAM, BackendHandler.address(address));
                        }
                        upstreamFailed(UpstreamFailure.TLS_HANDSHAKE, hs.cause().toString(), false);
                    }
                });
            } else {
                connected(upstream, address);
            }
        });
    }

    private void connected(UpstreamPool.Upstream upstream, InetSocketAddress address) {
        connecting = false;
        connectedUpstream = upstream;
        route.upstreams().succeeded(upstream, address);
        HttpObject obj;
        while ((obj = pending.poll()) != null) {
            if (obj instanceof HttpRequest request) {
                toUpstream(request, upstream);
            }
            toBackend(obj);
        }
        backend.flush();
        if (!(requestDone && upgradeRequest) && queued.isEmpty()) {
            client.config().setAutoRead(true);
        }
    }

    private static UpstreamFailure classify(Throwable cause) {
        if (cause instanceof ConnectTimeoutException) {
            return UpstreamFailure.CONNECT_TIMEOUT;
        }
        if (cause instanceof UnknownHostException || cause instanceof UnresolvedAddressException
                || cause.getCause() instanceof UnknownHostException) {
            return UpstreamFailure.UNRESOLVED;
        }
        if (cause instanceof ConnectException && String.valueOf(cause.getMessage()).contains("refused")) {
            return UpstreamFailure.REFUSED;
        }
        return UpstreamFailure.UNREACHABLE;
    }

    private void requestSent() {
        awaitingResponse = true;
        arm(Timer.RESPONSE, settings.responseTimeout());
    }

    /** The upstream's final response head arrived and is being relayed. */
    void responseStarted() {
        awaitingResponse = false;
        responding = true;
        if (timerKind == Timer.RESPONSE) {
            cancelTimer();
        }
    }

    /**
     * The upstream's response ends with {@code last}, which this writes to the client. After a
     * refused upgrade the connection closes (the decoder is gone); otherwise the next request is
     * read, a pipelined one at once.
     */
    void responseComplete(LastHttpContent last) {
        if (finished) {
            ReferenceCountUtil.release(last);
            return;
        }
        inFlight = false;
        responding = false;
        if (upgradeRequest) {
            // The upgrade was refused: the bytes sent behind it are dropped, never relayed.
            finished = true;
            releaseEarly();
            client.writeAndFlush(last).addListener(f -> lingerOrClose(f.isSuccess()));
            if (backend != null) {
                backend.close();
            }
            return;
        }
        client.write(last, client.voidPromise());
        Duration keepalive = settings.limits().keepaliveTimeout();
        if (keepalive.isZero()) {
            cancelTimer();
        } else {
            arm(Timer.KEEPALIVE, keepalive);
        }
        HttpObject obj;
        boolean dequeued = false;
        while (!finished && !(inFlight && requestDone) && (obj = queued.poll()) != null) {
            dequeued = true;
            handle(obj);
        }
        if (dequeued && backend != null && !connecting) {
            // Runs in the upstream channel's read: no client read completes to flush the pipelined request.
            backend.flush();
        }
        if (!finished && !connecting && queued.isEmpty() && !(inFlight && requestDone && upgradeRequest)) {
            client.config().setAutoRead(true);
        }
    }

    /** The upstream connection ended before or while a response was due. */
    void upstreamClosedEarly() {
        if (finished) {
            return;
        }
        if (awaitingResponse) {
            countUpstreamFailure(UpstreamFailure.CLOSED_EARLY);
            upstreamFailed(UpstreamFailure.CLOSED_EARLY, "upstream closed the connection before answering", false);
        } else if (responding) {
            // A response cut short: the client sees it cut too, never a complete-looking one.
            cut();
        } else if (!connecting) {
            finished = true;
            RelayHandler.closeOnFlush(client);
        }
    }

    /**
     * The upstream's response does not decode, or is a 101 no upgrade asked for: counted as
     * {@code invalid_response}; 502 if no byte of the final response went to the client yet, else
     * the client connection is cut.
     */
    void invalidResponse(String detail) {
        if (finished) {
            return;
        }
        countUpstreamFailure(UpstreamFailure.INVALID_RESPONSE);
        finished = true;
        if (responding) {
            LOG.atWarn().addKeyValue("event", "upstream.failure").addKeyValue("connection", client.id().asShortText())
                    .addKeyValue("route", route.name()).addKeyValue("cause", UpstreamFailure.INVALID_RESPONSE.label())
                    .addKeyValue("status", 0).addKeyValue("detail", LogText.escape(detail))
                    .log("invalid upstream response; client connection cut");
            cut();
        } else {
            upstreamFailed(UpstreamFailure.INVALID_RESPONSE, detail, false);
        }
    }

    /**
     * Answers 502, or 504 for {@link UpstreamFailure#RESPONSE_TIMEOUT}, and closes; counts the
     * failed upgrade. The upstream failure itself is counted where it happened.
     */
    private void upstreamFailed(UpstreamFailure failure, String detail, boolean countFailure) {
        awaitingResponse = false;
        HttpResponseStatus status = failure == UpstreamFailure.RESPONSE_TIMEOUT
                ? HttpResponseStatus.GATEWAY_TIMEOUT : HttpResponseStatus.BAD_GATEWAY;
        if (countFailure) {
            countUpstreamFailure(failure);
        }
        if (upgradeRequest) {
            route.meters().upgrade(status.code());
        }
        LOG.atWarn().addKeyValue("event", "upstream.failure").addKeyValue("connection", client.id().asShortText())
                .addKeyValue("route", route.name()).addKeyValue("cause", failure.label())
                .addKeyValue("status", status.code()).addKeyValue("detail", LogText.escape(detail))
                .log("no usable upstream response");
        finish(status, "closewatch: route " + route.name() + ": upstream " + failure.label().replace('_', ' '));
    }

    /** Counts a failure of the connected upstream, by its configured name. */
    private void countUpstreamFailure(UpstreamFailure failure) {
        UpstreamPool.Upstream upstream = connectedUpstream != null ? connectedUpstream : route.upstreams().all().get(0);
        route.meters().upstream(upstream.label()).failure(failure);
    }

    /** The connected upstream, as configured; null before the connect. */
    UpstreamPool.Upstream connectedUpstream() {
        return connectedUpstream;
    }

    /**
     * The upstream connection can take writes again: read the client again, unless the client must
     * wait (a pipelined request queued, or an upgrade request awaiting its answer).
     */
    void upstreamWritable() {
        if (finished || (queued.isEmpty() && !parsingStopped && !connecting)) {
            client.config().setAutoRead(true);
        }
    }

    void upgradeRelayed() {
        route.meters().upgrade(HttpResponseStatus.SWITCHING_PROTOCOLS.code());
    }

    void upgradeRefused(int status) {
        route.meters().upgrade(status);
    }

    Route route() {
        return route;
    }

    boolean upgradeRequest() {
        return upgradeRequest;
    }

    boolean finished() {
        return finished;
    }

    ProxySettings settings() {
        return settings;
    }

    /** Ends the connection with the proxy's own answer: nothing more is forwarded; closes lingeringly. */
    private void finish(HttpResponseStatus status, String body) {
        finished = true;
        releaseAll();
        if (backend != null) {
            backend.close();
        }
        if (!client.isActive()) {
            return;
        }
        // The rest of the input, raw: counted and discarded while lingering, never decoded.
        stopParsing();
        ByteBuf content = Unpooled.copiedBuffer(body + "\n", StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes())
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        client.writeAndFlush(response).addListener(f -> lingerOrClose(f.isSuccess()));
    }

    /**
     * Lingering close (as nginx's {@code lingering_close}): output shut down after the answer,
     * input read and discarded up to {@link #LINGER_BYTES} or {@link #LINGER_TIME}, then closed —
     * closing with unread input would send an RST that can destroy the answer in flight.
     */
    private void lingerOrClose(boolean written) {
        if (!written || !client.isActive() || !(client instanceof DuplexChannel duplex) || discarded > LINGER_BYTES) {
            client.close();
            return;
        }
        lingering = true;
        arm(Timer.LINGER, LINGER_TIME);
        duplex.shutdownOutput().addListener(f -> {
            if (f.isSuccess()) {
                client.config().setAutoRead(true);
            } else {
                client.close();
            }
        });
    }

    /** Closes at once (an RST if input is pending), for a response already under way that must not look complete. */
    private void cut() {
        finished = true;
        releaseAll();
        if (backend != null) {
            backend.close();
        }
        client.close();
    }

    private void releaseAll() {
        HttpObject obj;
        while ((obj = pending.poll()) != null) {
            ReferenceCountUtil.release(obj);
        }
        while ((obj = queued.poll()) != null) {
            ReferenceCountUtil.release(obj);
        }
        releaseEarly();
    }

    private void releaseEarly() {
        if (early != null) {
            early.release();
            early = null;
        }
    }

    /**
     * Sets the one timer to {@code kind}, due {@code after} from now. The scheduled task is a
     * wake-up, not the deadline: it is replaced only when the new deadline comes before it, and
     * otherwise re-checks the deadline when it runs. A handshake thus schedules one task and
     * cancels one, however often the timer changes kind on its way.
     */
    private void arm(Timer kind, Duration after) {
        long nanos = after.toNanos();
        long due = client.eventLoop().ticker().nanoTime() + nanos;
        timerKind = kind;
        timerDue = due;
        if (timer == null || due - timerWakeUp < 0) {
            if (timer != null) {
                timer.cancel(false);
            }
            timerWakeUp = due;
            timer = client.eventLoop().schedule(onTimer, nanos, TimeUnit.NANOSECONDS);
        }
    }

    /** Disarms the timer; its task, if any, wakes up to nothing (see {@link #stopTimer()}). */
    private void cancelTimer() {
        timerKind = Timer.NONE;
    }

    /** Disarms the timer and cancels its task: the connection closes or leaves HTTP. */
    private void stopTimer() {
        timerKind = Timer.NONE;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void timerFired() {
        timer = null;
        Timer kind = timerKind;
        if (kind == Timer.NONE) {
            return;
        }
        long left = timerDue - client.eventLoop().ticker().nanoTime();
        if (left > 0) {
            // Re-armed for later since this task was scheduled.
            timerWakeUp = timerDue;
            timer = client.eventLoop().schedule(onTimer, left, TimeUnit.NANOSECONDS);
            return;
        }
        timerKind = Timer.NONE;
        if (!client.isActive()) {
            return;
        }
        switch (kind) {
            case REQUEST_HEAD -> {
                if (!finished && !inFlight) {
                    reject(Reason.HANDSHAKE_TIMEOUT, "closewatch: no complete request head within "
                            + settings.limits().handshakeTimeout().toMillis() + " ms", null);
                }
            }
            case KEEPALIVE -> {
                if (!finished && !inFlight) {
                    settings.rejections().keepaliveTimedOut();
                    LOG.atDebug().addKeyValue("event", "http.keepalive.timeout").addKeyValue("connection", client.id().asShortText())
                            .addKeyValue("client", clientAddress())
                            .log("idle keep-alive connection closed");
                    finished = true;
                    releaseAll();
                    if (backend != null) {
                        backend.close();
                    }
                    client.close();
                }
            }
            case RESPONSE -> {
                if (awaitingResponse && !finished) {
                    countUpstreamFailure(UpstreamFailure.RESPONSE_TIMEOUT);
                    upstreamFailed(UpstreamFailure.RESPONSE_TIMEOUT, "no response within " + settings.responseTimeout(), false);
                }
            }
            case LINGER -> client.close();
            case NONE -> { }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!finished && !inFlight && timerKind != Timer.REQUEST_HEAD && client != null) {
            // The first bytes of a next request (or of the first, with keepalive_timeout 0): its head is due.
            arm(Timer.REQUEST_HEAD, settings.limits().handshakeTimeout());
        }
        if (backend != null && !connecting) {
            backend.flush();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (backend != null && ctx.channel().isWritable()) {
            backend.config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        // Replaced by a RelayHandler after a 101: the connection stays counted until it closes.
        stopTimer();
        releaseAll();
        if (counted && ctx.channel().isActive()) {
            counted = false;
            ctx.channel().closeFuture().addListener(f -> settings.connections().decrementAndGet());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (counted) {
            counted = false;
            settings.connections().decrementAndGet();
        }
        stopTimer();
        releaseAll();
        awaitingResponse = false;
        if (backend != null) {
            RelayHandler.closeOnFlush(backend);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.atDebug().addKeyValue("event", "http.connection.failed").addKeyValue("connection", ctx.channel().id().asShortText())
                .addKeyValue("detail", LogText.escape(cause.toString())).log("client connection failed during HTTP");
        ctx.close();
    }
}
