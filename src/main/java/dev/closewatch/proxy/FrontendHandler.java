package dev.closewatch.proxy;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.UpstreamUri;
import dev.closewatch.observe.RequestRejections.Reason;
import dev.closewatch.observe.UpstreamFailure;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.ConnectException;
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
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of a proxied connection during HTTP (RFC 6455 §4.1 opening handshake, and plain
 * HTTP/1.1 requests): enforces the connection and handshake limits, picks the route, connects an
 * upstream on this channel's event loop (round-robin, the next upstream on a connect failure),
 * forwards the request with {@code X-Forwarded-*} headers, answers 502 when no upstream can be
 * reached and 504 when it does not answer in time. The {@link BackendHandler} relays the response
 * and, on a 101, switches both channels to {@link RelayHandler}s.
 */
final class FrontendHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(FrontendHandler.class);

    private final ProxySettings settings;
    private final boolean clientTls;
    private final Queue<HttpObject> pending = new ArrayDeque<>();
    private Channel client;
    private Channel backend;
    private UpstreamUri connectedUpstream;
    private boolean connecting;
    private boolean counted;
    private boolean overLimit;
    private Route route;
    private boolean upgradeRequest;
    private boolean awaitingResponse;
    private boolean requestSeen;
    private ScheduledFuture<?> responseTimeout;
    private ScheduledFuture<?> handshakeTimeout;

    FrontendHandler(ProxySettings settings, boolean clientTls) {
        this.settings = settings;
        this.clientTls = clientTls;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        client = ctx.channel();
        counted = true;
        int open = settings.connections().incrementAndGet();
        int max = settings.limits().maxConnections();
        overLimit = max > 0 && open > max;
        handshakeTimeout = ctx.executor().schedule(() -> {
            if (!requestSeen && client.isActive()) {
                reject(Reason.HANDSHAKE_TIMEOUT, "closewatch: no complete request within "
                        + settings.limits().handshakeTimeout().toMillis() + " ms");
            }
        }, settings.limits().handshakeTimeout().toNanos(), TimeUnit.NANOSECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent done && !done.isSuccess()) {
            // RFC 6455 §7.4.1: 1015 — the TLS handshake with the client failed.
            LOG.info("[{}] TLS handshake with client {} failed: {}", ctx.channel().id(), ctx.channel().remoteAddress(),
                    done.cause().toString());
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
                BackendHandler.address(client.remoteAddress()), upstreamAddress, CloseCatalog.TLS_HANDSHAKE,
                catalog.lookup(CloseCatalog.TLS_HANDSHAKE), "", initiator, false, false, Cause.TLS_HANDSHAKE,
                Instant.now(), Duration.ZERO, null, 0, 0));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpObject obj)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (obj instanceof HttpRequest request && !startRequest(ctx, request)) {
            return;
        }
        if (route == null) {
            // The request was answered locally; drop the rest of it.
            ReferenceCountUtil.release(obj);
            return;
        }
        if (obj instanceof LastHttpContent && upgradeRequest) {
            // RFC 6455 §4.1: the client waits for the answer; read nothing until it comes.
            ctx.channel().config().setAutoRead(false);
        }
        if (backend != null && !connecting) {
            backend.write(obj, backend.voidPromise());
            if (obj instanceof LastHttpContent) {
                requestSent();
            }
            if (!backend.isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
        } else {
            pending.add(obj);
        }
    }

    /** Returns false if the request was answered here (and released). */
    private boolean startRequest(ChannelHandlerContext ctx, HttpRequest request) {
        requestSeen = true;
        if (handshakeTimeout != null) {
            handshakeTimeout.cancel(false);
            handshakeTimeout = null;
        }
        DecoderResult result = request.decoderResult();
        Reason rejection = null;
        String detail = null;
        Route selected = null;
        if (result.isFailure()) {
            Throwable cause = result.cause();
            rejection = cause instanceof TooLongHttpHeaderException ? Reason.HEADER_TOO_LARGE
                    : cause instanceof TooLongHttpLineException ? Reason.URI_TOO_LONG : Reason.MALFORMED;
            detail = "closewatch: " + HttpResponseStatus.valueOf(rejection.status()).reasonPhrase().toLowerCase(Locale.ROOT)
                    + ": " + cause.getMessage();
        } else if (overLimit) {
            rejection = Reason.MAX_CONNECTIONS;
            detail = "closewatch: too many connections (limits.max_connections " + settings.limits().maxConnections() + ")";
        } else if (settings.draining().get() && backend == null) {
            rejection = Reason.DRAINING;
            detail = "closewatch: shutting down";
        } else {
            selected = settings.routes().select(request.headers().get(HttpHeaderNames.HOST), request.uri());
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
            route = null;
            ReferenceCountUtil.release(request);
            reject(rejection, detail);
            return false;
        }
        route = selected;
        upgradeRequest = isWebSocketUpgrade(request.headers());
        addForwardedHeaders(request.headers());
        if (backend == null && !connecting) {
            connect(route.upstreams().candidates(), 0);
        }
        if (connectedUpstream != null) {
            request.setUri(connectedUpstream.target(request.uri()));
        }
        return true;
    }

    private void reject(Reason reason, String detail) {
        settings.rejections().rejected(reason);
        LOG.info("[{}] rejected request from {}: {} {} ({})", client.id(), client.remoteAddress(), reason.status(),
                reason.label(), detail);
        respondAndClose(HttpResponseStatus.valueOf(reason.status()), detail);
    }

    static boolean isWebSocketUpgrade(HttpHeaders headers) {
        return headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
                && headers.contains(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
    }

    private void addForwardedHeaders(HttpHeaders headers) {
        SocketAddress remote = client.remoteAddress();
        String ip = remote instanceof InetSocketAddress inet ? inet.getAddress().getHostAddress() : String.valueOf(remote);
        String prior = headers.get("X-Forwarded-For");
        headers.set("X-Forwarded-For", prior == null ? ip : prior + ", " + ip);
        headers.set("X-Forwarded-Proto", clientTls ? "https" : "http");
        String host = headers.get(HttpHeaderNames.HOST);
        if (host != null) {
            headers.set("X-Forwarded-Host", host);
        }
    }

    /** Connects {@code candidates.get(index)}; on failure the next, then 502. */
    private void connect(List<UpstreamUri> candidates, int index) {
        connecting = true;
        client.config().setAutoRead(false);
        UpstreamUri target = candidates.get(index);
        Route forRoute = route;
        ChannelFuture f = settings.connector().connect(client, target, new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                Transport.configureSocket(ch, settings.keepalive().tcpKeepalive());
                if (target.tls()) {
                    ch.pipeline().addLast(HandlerNames.TLS, upstreamTlsHandler(ch, target));
                }
                ch.pipeline()
                        .addLast(HandlerNames.HTTP_CLIENT_CODEC, new HttpClientCodec())
                        .addLast(HandlerNames.BACKEND, new BackendHandler(FrontendHandler.this, client));
            }
        });
        backend = f.channel();
        f.addListener((ChannelFutureListener) future -> {
            if (!future.isSuccess()) {
                UpstreamFailure failure = classify(future.cause());
                forRoute.meters().upstreamFailure(failure);
                forRoute.upstreams().failed(target);
                LOG.warn("[{}] route {} upstream {}: {} ({})", client.id(), forRoute.name(), target.address(),
                        failure.label(), future.cause().toString());
                backend = null;
                if (index + 1 < candidates.size() && client.isActive()) {
                    connect(candidates, index + 1);
                } else {
                    connecting = false;
                    upstreamFailed(failure, future.cause().toString(), false);
                }
                return;
            }
            if (!client.isActive()) {
                future.channel().close();
                return;
            }
            if (target.tls()) {
                future.channel().pipeline().get(SslHandler.class).handshakeFuture().addListener(hs -> {
                    if (hs.isSuccess()) {
                        connected(target);
                    } else {
                        connecting = false;
                        forRoute.upstreams().failed(target);
                        LOG.warn("[{}] route {} upstream {}: TLS handshake failed ({})", client.id(), forRoute.name(),
                                target.address(), hs.cause().toString());
                        if (upgradeRequest) {
                            openFailed(forRoute, Initiator.UPSTREAM, target.address().toString());
                        }
                        upstreamFailed(UpstreamFailure.TLS_HANDSHAKE, hs.cause().toString(), true);
                    }
                });
            } else {
                connected(target);
            }
        });
    }

    private SslHandler upstreamTlsHandler(Channel ch, UpstreamUri target) {
        SslHandler handler = settings.upstreamTls().newHandler(ch.alloc(), target.address().host(), target.address().port());
        SSLEngine engine = handler.engine();
        SSLParameters params = engine.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        engine.setSSLParameters(params);
        return handler;
    }

    private void connected(UpstreamUri target) {
        connecting = false;
        connectedUpstream = target;
        route.upstreams().succeeded(target);
        HttpObject obj;
        while ((obj = pending.poll()) != null) {
            if (obj instanceof HttpRequest request) {
                request.setUri(target.target(request.uri()));
            }
            backend.write(obj, backend.voidPromise());
            if (obj instanceof LastHttpContent) {
                requestSent();
            }
        }
        backend.flush();
        if (!awaitingResponse || !upgradeRequest) {
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
        long timeout = settings.responseTimeout().toNanos();
        responseTimeout = client.eventLoop().schedule(() -> {
            if (awaitingResponse) {
                if (backend != null) {
                    backend.close();
                }
                route.meters().upstreamFailure(UpstreamFailure.RESPONSE_TIMEOUT);
                upstreamFailed(UpstreamFailure.RESPONSE_TIMEOUT, "no response within " + settings.responseTimeout(), false);
            }
        }, timeout, TimeUnit.NANOSECONDS);
    }

    /** The upstream's response head arrived. */
    void responseStarted() {
        awaitingResponse = false;
        if (responseTimeout != null) {
            responseTimeout.cancel(false);
            responseTimeout = null;
        }
    }

    /** The upstream's response is complete; read the client's next request. */
    void responseComplete() {
        client.config().setAutoRead(true);
    }

    /** The upstream connection ended before or while a response was due. */
    void upstreamClosedEarly() {
        if (awaitingResponse) {
            route.meters().upstreamFailure(UpstreamFailure.CLOSED_EARLY);
            upstreamFailed(UpstreamFailure.CLOSED_EARLY, "upstream closed the connection before answering", false);
        } else if (!connecting) {
            RelayHandler.closeOnFlush(client);
        }
    }

    /**
     * Answers 502, or 504 for {@link UpstreamFailure#RESPONSE_TIMEOUT}, and closes; counts the
     * failed upgrade. The upstream failure itself is counted where it happened.
     */
    private void upstreamFailed(UpstreamFailure failure, String detail, boolean countFailure) {
        responseStarted();
        releasePending();
        HttpResponseStatus status = failure == UpstreamFailure.RESPONSE_TIMEOUT
                ? HttpResponseStatus.GATEWAY_TIMEOUT : HttpResponseStatus.BAD_GATEWAY;
        if (countFailure) {
            route.meters().upstreamFailure(failure);
        }
        if (upgradeRequest) {
            route.meters().upgrade(status.code());
        }
        LOG.warn("[{}] route {}: {} -> {} ({})", client.id(), route.name(), failure.label(), status.code(), detail);
        respondAndClose(status, "closewatch: route " + route.name() + ": upstream " + failure.label().replace('_', ' '));
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

    ProxySettings settings() {
        return settings;
    }

    private void respondAndClose(HttpResponseStatus status, String body) {
        if (!client.isActive()) {
            return;
        }
        ByteBuf content = Unpooled.copiedBuffer(body + "\n", StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes())
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        client.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    private void releasePending() {
        HttpObject obj;
        while ((obj = pending.poll()) != null) {
            ReferenceCountUtil.release(obj);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
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
        if (handshakeTimeout != null) {
            handshakeTimeout.cancel(false);
        }
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
        if (handshakeTimeout != null) {
            handshakeTimeout.cancel(false);
        }
        releasePending();
        responseStarted();
        if (backend != null) {
            RelayHandler.closeOnFlush(backend);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("[{}] client connection failed during HTTP: {}", ctx.channel().id(), cause.toString());
        ctx.close();
    }
}
