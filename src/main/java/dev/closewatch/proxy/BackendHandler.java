package dev.closewatch.proxy;

import dev.closewatch.config.UpstreamUri;
import dev.closewatch.observe.LogText;
import dev.closewatch.websocket.Direction;
import dev.closewatch.websocket.WebSocketSession;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpObjectDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upstream side of a proxied connection during HTTP: relays the response as it comes (a 403
 * stays a 403), unless it does not decode (RFC 9112) — then the {@link FrontendHandler} answers
 * 502 or cuts the client connection, never relaying a well-formed end after a failure. When the
 * upstream answers a WebSocket upgrade request with 101 Switching Protocols (RFC 6455 §4.2.2),
 * it relays the 101, opens a {@link WebSocketSession} and replaces the HTTP codecs of both channels with {@link RelayHandler}s, handing over any bytes already read
 * past the response head, and relays the bytes the client sent behind its upgrade request first.
 * A 101 to anything but a WebSocket upgrade request is never relayed: every 101 relayed is a session.
 */
final class BackendHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(BackendHandler.class);

    private final FrontendHandler frontend;
    private final Channel client;
    private final UpstreamUri tlsTarget;
    private boolean switching;
    /** The 101's {@code Sec-WebSocket-Extensions} (RFC 6455 §9.1), or null. */
    private String extensions;

    /**
     * @param tlsTarget the upstream to verify the TLS certificate of (RFC 9110 §4.3.4), or null
     *                  for a plain connection
     */
    BackendHandler(FrontendHandler frontend, Channel client, UpstreamUri tlsTarget) {
        this.frontend = frontend;
        this.client = client;
        this.tlsTarget = tlsTarget;
    }

    /**
     * Added as the upstream channel's only handler by the connect: puts the strict HTTP/1.1
     * client codec, and TLS when the upstream is {@code wss://}, in front of itself.
     */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        Channel ch = ctx.channel();
        ProxySettings settings = frontend.settings();
        Transport.configureSocket(ch, settings.keepalive().tcpKeepalive());
        ChannelPipeline pipeline = ctx.pipeline();
        pipeline.addBefore(ctx.name(), HandlerNames.HTTP_CLIENT_CODEC, new HttpClientCodec(
                FrontendHandler.strictDecoder(HttpObjectDecoder.DEFAULT_MAX_INITIAL_LINE_LENGTH,
                        HttpObjectDecoder.DEFAULT_MAX_HEADER_SIZE), false, false));
        if (tlsTarget != null) {
            pipeline.addBefore(HandlerNames.HTTP_CLIENT_CODEC, HandlerNames.TLS, upstreamTlsHandler(ch, settings, tlsTarget));
        }
    }

    private static SslHandler upstreamTlsHandler(Channel ch, ProxySettings settings, UpstreamUri target) {
        SslHandler handler = settings.upstreamTls().newHandler(ch.alloc(), target.address().host(), target.address().port());
        SSLEngine engine = handler.engine();
        SSLParameters params = engine.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        engine.setSSLParameters(params);
        return handler;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (frontend.finished()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!(msg instanceof HttpObject obj)) {
            // Raw bytes come out of the decoder only after a 101 it let pass: never relayed as HTTP.
            ReferenceCountUtil.release(msg);
            frontend.invalidResponse("bytes after a 101 that was not relayed");
            return;
        }
        if (obj.decoderResult().isFailure()) {
            // RFC 9112: a response that does not decode is never relayed as complete.
            String detail = "response does not decode: " + obj.decoderResult().cause();
            ReferenceCountUtil.release(obj);
            frontend.invalidResponse(detail);
            return;
        }
        if (obj instanceof HttpResponse response) {
            int status = response.status().code();
            String invalid = invalidStatusLine(response);
            if (invalid != null) {
                ReferenceCountUtil.release(obj);
                frontend.invalidResponse(invalid);
                return;
            }
            if (status == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
                if (!frontend.upgradeRequest() || !response.headers().contains(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT)
                        || !isWebSocketHandshakeResponse(response.headers())) {
                    // Only a WebSocket upgrade request may be answered 101, and RFC 6455 §4.2.2 requires
                    // Upgrade: websocket, Connection: Upgrade and Sec-WebSocket-Accept; a client must fail
                    // any other 101 (§4.1), and without them Netty would read the connection as HTTP.
                    ReferenceCountUtil.release(obj);
                    frontend.invalidResponse(!frontend.upgradeRequest() ? "101 to a request that is not a WebSocket upgrade"
                            : !isWebSocketHandshakeResponse(response.headers())
                            ? "101 without exactly one Upgrade: websocket and a Connection: Upgrade"
                            : "101 without Sec-WebSocket-Accept");
                    return;
                }
                frontend.responseStarted();
                switching = true;
                // RFC 6455 §9.1: the header may be repeated; its values form one comma-separated list.
                List<String> offered = response.headers().getAll(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS);
                extensions = offered.isEmpty() ? null : String.join(", ", offered);
                frontend.upgradeRelayed();
            } else if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                // 100 Continue and other interim responses: the final response follows.
                client.write(msg, client.voidPromise());
                return;
            } else {
                frontend.responseStarted();
                if (frontend.upgradeRequest()) {
                    // The refused upgrade's connection closes after this response (its decoder is gone).
                    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                    frontend.upgradeRefused(status);
                    // No session opens, so no close line: this is the only line a refused upgrade (401, 403...) gets.
                    LOG.atInfo().addKeyValue("event", "websocket.upgrade.refused")
                            .addKeyValue("connection", client.id().asShortText())
                            .addKeyValue("route", frontend.route().name()).addKeyValue("client", frontend.clientAddress())
                            .addKeyValue("upstream", address(ctx.channel().remoteAddress())).addKeyValue("status", status)
                            .log("WebSocket upgrade refused by the upstream: {}", status);
                }
            }
        }
        if (obj instanceof LastHttpContent last) {
            if (switching) {
                // A 101 has no content (RFC 9110 §15.2): its empty end is not written, so that the
                // head goes out alone, in one send(2) rather than a writev(2) with an empty buffer.
                last.release();
                switchToRelay(ctx);
            } else {
                frontend.responseComplete(last);
            }
            return;
        }
        client.write(msg, client.voidPromise());
        if (msg instanceof HttpContent && !client.isWritable()) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    /**
     * Whether a 101's headers complete a WebSocket opening handshake (RFC 6455 §4.1, client step 2
     * and 3; §4.2.2): exactly one {@code Upgrade} header, an ASCII case-insensitive
     * {@code websocket}, and {@code Connection} with the {@code Upgrade} token. A client fails any
     * other 101, and an HTTP/1.1 parser (Netty's among them) goes on reading HTTP after it.
     */
    static boolean isWebSocketHandshakeResponse(HttpHeaders headers) {
        List<String> upgrade = headers.getAll(HttpHeaderNames.UPGRADE);
        return upgrade.size() == 1 && upgrade.get(0).trim().equalsIgnoreCase("websocket")
                && headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
    }

    /**
     * What Netty's lenient status-line parsing lets through and the client's parser would not: a
     * version other than HTTP/1.x, a status code outside 100–599 (RFC 9110 §15: invalid, to be
     * treated as a server error), a reason phrase with control characters (RFC 9112 §4:
     * {@code reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )}). Null when the line is fine.
     */
    static String invalidStatusLine(HttpResponse response) {
        if (response.protocolVersion().majorVersion() != 1) {
            return "response version " + response.protocolVersion() + " (expected: HTTP/1.x)";
        }
        int code = response.status().code();
        if (code < 100 || code > 599) {
            return "status code " + code + " (expected: 100-599)";
        }
        String reason = response.status().reasonPhrase();
        for (int i = 0; i < reason.length(); i++) {
            char c = reason.charAt(i);
            if (c != '\t' && (c < 0x20 || c == 0x7F || c > 0xFF)) {
                return "control character 0x" + Integer.toHexString(c) + " in the reason phrase";
            }
        }
        return null;
    }

    /** Both pipelines from HTTP to raw relay; runs inside this channel's read, on the shared event loop. */
    private void switchToRelay(ChannelHandlerContext ctx) {
        Route route = frontend.route();
        Channel upstream = ctx.channel();
        ByteBuf early = frontend.takeEarlyBytes();
        ProxySettings settings = frontend.settings();
        UpstreamPool.Upstream configured = frontend.connectedUpstream();
        route.meters().upstream(configured.label()).sessionOpened();
        WebSocketSession session = new WebSocketSession(client.id().asShortText(), route.name(),
                frontend.clientAddress(), address(upstream.remoteAddress()),
                route.catalog(), route.listener(), System::nanoTime, frontend.sessionFacts());
        session.negotiatedExtensions(extensions);
        SessionControl control = new SessionControl(session, client, upstream, settings);
        long maxFrame = settings.limits().maxFrameSize();
        RelayHandler upstreamToClient = new RelayHandler(Direction.UPSTREAM_TO_CLIENT, client, control, route.meters(), maxFrame);
        RelayHandler clientToUpstream = new RelayHandler(Direction.CLIENT_TO_UPSTREAM, upstream, control, route.meters(), maxFrame);
        control.start(clientToUpstream, upstreamToClient);
        // Relays first, then both encoders, and only then the decoders: removing a decoder hands
        // its leftover bytes (frames read together with the handshake) to the relay, which writes
        // them to the other channel, where no HTTP encoder may remain.
        ChannelPipeline up = upstream.pipeline();
        ChannelPipeline down = client.pipeline();
        up.replace(this, HandlerNames.RELAY, upstreamToClient);
        down.replace(HandlerNames.FRONTEND, HandlerNames.RELAY, clientToUpstream);
        HttpClientCodec clientCodec = (HttpClientCodec) up.get(HandlerNames.HTTP_CLIENT_CODEC);
        HttpServerCodec serverCodec = down.get(HttpServerCodec.class);
        clientCodec.removeOutboundHandler();
        serverCodec.removeOutboundHandler();
        up.remove(clientCodec);
        down.remove(serverCodec);
        client.flush();
        if (early != null) {
            // What the client sent behind its upgrade request: the session's first bytes, observed as frames.
            clientToUpstream.channelRead(down.context(clientToUpstream), early);
            upstream.flush();
        }
        client.config().setAutoRead(true);
        settings.sessions().add(control);
        if (settings.draining().get()) {
            control.drain();
        }
        if (LOG.isDebugEnabled()) {
            // Guarded: the arguments would be built for every session even with the line off.
            LOG.atDebug().addKeyValue("event", "websocket.open").addKeyValue("connection", session.id())
                    .addKeyValue("route", route.name()).addKeyValue("upstream", session.upstream())
                    .log("WebSocket session open");
        }
    }

    static String address(SocketAddress address) {
        if (address instanceof InetSocketAddress inet) {
            String host = inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString();
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + inet.getPort();
        }
        return String.valueOf(address);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        client.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            frontend.upstreamWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        frontend.upstreamClosedEarly();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.atDebug().addKeyValue("event", "upstream.connection.failed").addKeyValue("connection", client.id().asShortText())
                .addKeyValue("detail", LogText.escape(cause.toString())).log("upstream connection failed during HTTP");
        ctx.close();
    }
}
