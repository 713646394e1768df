package dev.closewatch.proxy;

import dev.closewatch.observe.UpstreamFailure;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
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
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of a proxied connection during HTTP (RFC 6455 §4.1 opening handshake, and plain
 * HTTP/1.1 requests): picks the route, connects the upstream on this channel's event loop,
 * forwards the request with {@code X-Forwarded-*} headers, answers 502 when the upstream cannot
 * be reached and 504 when it does not answer in time. The {@link BackendHandler} relays the
 * response and, on a 101, switches both channels to {@link RelayHandler}s.
 */
final class FrontendHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(FrontendHandler.class);

    private final ProxySettings settings;
    private final Queue<HttpObject> pending = new ArrayDeque<>();
    private Channel client;
    private Channel backend;
    private boolean connecting;
    private Route route;
    private boolean upgradeRequest;
    private boolean awaitingResponse;
    private ScheduledFuture<?> responseTimeout;

    FrontendHandler(ProxySettings settings) {
        this.settings = settings;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        client = ctx.channel();
        ctx.fireChannelActive();
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
        if (obj instanceof LastHttpContent) {
            if (upgradeRequest) {
                // RFC 6455 §4.1: the client waits for the answer; read nothing until it comes.
                ctx.channel().config().setAutoRead(false);
            }
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
        DecoderResult result = request.decoderResult();
        if (result.isFailure()) {
            Throwable cause = result.cause();
            HttpResponseStatus status = cause instanceof TooLongHttpHeaderException
                    ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                    : HttpResponseStatus.BAD_REQUEST;
            LOG.info("[{}] rejected request from {}: {} ({})", ctx.channel().id(), ctx.channel().remoteAddress(),
                    status, cause.getMessage());
            route = null;
            ReferenceCountUtil.release(request);
            respondAndClose(status, "closewatch: " + status.reasonPhrase().toLowerCase() + ": " + cause.getMessage());
            return false;
        }
        Route selected = settings.routes().select(request.uri());
        if (selected == null) {
            route = null;
            ReferenceCountUtil.release(request);
            respondAndClose(HttpResponseStatus.NOT_FOUND, "closewatch: no route for this path");
            return false;
        }
        if (route != null && selected != route && backend != null) {
            // One upstream connection per client connection: a keep-alive request for another
            // route is refused rather than silently sent to the wrong upstream.
            ReferenceCountUtil.release(request);
            respondAndClose(HttpResponseStatus.MISDIRECTED_REQUEST,
                    "closewatch: this connection is bound to route " + route.name() + "; open a new connection");
            return false;
        }
        route = selected;
        upgradeRequest = isWebSocketUpgrade(request.headers());
        request.setUri(route.upstream().target(request.uri()));
        addForwardedHeaders(request.headers());
        if (backend == null && !connecting) {
            connect(ctx);
        }
        return true;
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
        headers.set("X-Forwarded-Proto", "http");
        String host = headers.get(HttpHeaderNames.HOST);
        if (host != null) {
            headers.set("X-Forwarded-Host", host);
        }
    }

    private void connect(ChannelHandlerContext ctx) {
        connecting = true;
        client.config().setAutoRead(false);
        Route target = route;
        Bootstrap bootstrap = new Bootstrap()
                .group(client.eventLoop())
                .channel(settings.transport().socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) settings.connectTimeout().toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new io.netty.channel.ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline()
                                .addLast(HandlerNames.HTTP_CLIENT_CODEC, new HttpClientCodec())
                                .addLast(HandlerNames.BACKEND, new BackendHandler(FrontendHandler.this, client));
                    }
                });
        ChannelFuture f = bootstrap.connect(target.upstream().address().toSocketAddress());
        backend = f.channel();
        f.addListener((ChannelFutureListener) future -> {
            connecting = false;
            if (!future.isSuccess()) {
                backend = null;
                upstreamFailed(classify(future.cause()), future.cause().toString());
                return;
            }
            if (!client.isActive()) {
                future.channel().close();
                return;
            }
            HttpObject obj;
            while ((obj = pending.poll()) != null) {
                backend.write(obj, backend.voidPromise());
                if (obj instanceof LastHttpContent) {
                    requestSent();
                }
            }
            backend.flush();
            if (!awaitingResponse || !upgradeRequest) {
                client.config().setAutoRead(true);
            }
        });
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
                upstreamFailed(UpstreamFailure.RESPONSE_TIMEOUT, "no response within " + settings.responseTimeout());
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
            upstreamFailed(UpstreamFailure.CLOSED_EARLY, "upstream closed the connection before answering");
        } else {
            RelayHandler.closeOnFlush(client);
        }
    }

    /** Answers 502, or 504 for {@link UpstreamFailure#RESPONSE_TIMEOUT}, counts it, and closes. */
    private void upstreamFailed(UpstreamFailure failure, String detail) {
        responseStarted();
        releasePending();
        HttpResponseStatus status = failure == UpstreamFailure.RESPONSE_TIMEOUT
                ? HttpResponseStatus.GATEWAY_TIMEOUT : HttpResponseStatus.BAD_GATEWAY;
        route.meters().upstreamFailure(failure);
        if (upgradeRequest) {
            route.meters().upgrade(status.code());
        }
        LOG.warn("[{}] route {} upstream {}: {} -> {} ({})", client.id(), route.name(), route.upstream().address(),
                failure.label(), status.code(), detail);
        respondAndClose(status, "closewatch: upstream " + route.upstream().address() + " " + failure.label()
                .replace('_', ' ') + " (route " + route.name() + ")");
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

    Channel backend() {
        return backend;
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
    public void channelInactive(ChannelHandlerContext ctx) {
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
