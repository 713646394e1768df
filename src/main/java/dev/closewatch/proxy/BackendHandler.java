package dev.closewatch.proxy;

import dev.closewatch.websocket.Direction;
import dev.closewatch.websocket.WebSocketSession;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upstream side of a proxied connection during HTTP: relays the response as it comes (a 403
 * stays a 403). When the upstream answers a WebSocket upgrade request with 101 Switching
 * Protocols (RFC 6455 §4.2.2), it relays the 101, opens a {@link WebSocketSession} and replaces
 * the HTTP codecs of both channels with {@link RelayHandler}s, handing over any bytes already read
 * past the response head.
 */
final class BackendHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(BackendHandler.class);

    private final FrontendHandler frontend;
    private final Channel client;
    private boolean switching;
    /** The 101's {@code Sec-WebSocket-Extensions} (RFC 6455 §9.1), or null. */
    private String extensions;

    BackendHandler(FrontendHandler frontend, Channel client) {
        this.frontend = frontend;
        this.client = client;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpObject)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse response) {
            int status = response.status().code();
            if (status == HttpResponseStatus.CONTINUE.code()) {
                // 100 Continue is informational: the real response follows.
                client.write(msg, client.voidPromise());
                return;
            }
            frontend.responseStarted();
            if (frontend.upgradeRequest()) {
                if (status == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
                    switching = true;
                    extensions = response.headers().get(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS);
                    frontend.upgradeRelayed();
                } else {
                    frontend.upgradeRefused(status);
                }
            }
        }
        client.write(msg, client.voidPromise());
        if (msg instanceof LastHttpContent) {
            if (switching) {
                switchToRelay(ctx);
            } else {
                frontend.responseComplete();
            }
        } else if (msg instanceof HttpContent && !client.isWritable()) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    /** Both pipelines from HTTP to raw relay; runs inside this channel's read, on the shared event loop. */
    private void switchToRelay(ChannelHandlerContext ctx) {
        Route route = frontend.route();
        Channel upstream = ctx.channel();
        ProxySettings settings = frontend.settings();
        WebSocketSession session = new WebSocketSession(client.id().asShortText(), route.name(),
                address(client.remoteAddress()), address(upstream.remoteAddress()),
                route.catalog(), route.listener(), System::nanoTime);
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
        up.replace(HandlerNames.BACKEND, HandlerNames.RELAY, upstreamToClient);
        down.replace(HandlerNames.FRONTEND, HandlerNames.RELAY, clientToUpstream);
        HttpClientCodec clientCodec = (HttpClientCodec) up.get(HandlerNames.HTTP_CLIENT_CODEC);
        HttpServerCodec serverCodec = (HttpServerCodec) down.get(HandlerNames.HTTP_SERVER_CODEC);
        clientCodec.removeOutboundHandler();
        serverCodec.removeOutboundHandler();
        up.remove(clientCodec);
        down.remove(serverCodec);
        client.flush();
        client.config().setAutoRead(true);
        settings.sessions().add(control);
        if (settings.draining().get()) {
            control.drain();
        }
        LOG.debug("[{}] route {} WebSocket session open to {}", client.id(), route.name(), upstream.remoteAddress());
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
            client.config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        frontend.upstreamClosedEarly();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("[{}] upstream connection failed during HTTP: {}", client.id(), cause.toString());
        ctx.close();
    }
}
