package dev.closewatch.demo;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The demo's embedded WebSocket upstream (Netty's RFC 6455 codec): echoes every data frame as
 * it came (fragmentation kept), answers Pings, answers a Close frame with the same Close, and
 * obeys commands sent as text messages:
 * <ul>
 *   <li>{@code close CODE [REASON]} — sends a Close frame with that status code, then waits up to
 *       2 s for the client's Close before closing TCP;</li>
 *   <li>{@code close-empty} — sends a Close frame with no status code (the proxy reports 1005);</li>
 *   <li>{@code drop} — closes TCP without a Close frame (the proxy reports 1006, upstream).</li>
 * </ul>
 * {@link #start(int)} listens on 127.0.0.1 only.
 */
public final class EchoUpstream implements AutoCloseable {

    private final OneLoopServer server;

    private EchoUpstream(OneLoopServer server) {
        this.server = server;
    }

    /**
     * Starts the upstream on {@code 127.0.0.1:port} (0 for any free port).
     *
     * @throws InterruptedException if interrupted while binding
     */
    public static EchoUpstream start(int port) throws InterruptedException {
        return start(new InetSocketAddress("127.0.0.1", port));
    }

    /**
     * Starts the upstream on {@code address} (the {@code echo-upstream} command binds where it is
     * told, e.g. 0.0.0.0 in a container).
     *
     * @throws InterruptedException if interrupted while binding
     */
    public static EchoUpstream start(InetSocketAddress address) throws InterruptedException {
        return new EchoUpstream(OneLoopServer.bind(address, b -> b.childHandler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536), new Handler());
            }
        })));
    }

    /** The bound address. */
    public InetSocketAddress address() {
        return server.address();
    }

    @Override
    public void close() {
        server.close();
    }

    private static final class Handler extends SimpleChannelInboundHandler<Object> {
        private WebSocketServerHandshaker handshaker;
        private boolean closeSent;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof FullHttpRequest request) {
                WebSocketServerHandshakerFactory factory = new WebSocketServerHandshakerFactory(
                        "ws://" + request.headers().get("Host") + request.uri(), null,
                        WebSocketDecoderConfig.newBuilder().allowExtensions(false).maxFramePayloadLength(16 << 20)
                                .withUTF8Validator(false).build());
                handshaker = factory.newHandshaker(request);
                if (handshaker == null) {
                    WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
                } else {
                    handshaker.handshake(ctx.channel(), request);
                }
                return;
            }
            WebSocketFrame frame = (WebSocketFrame) msg;
            if (frame instanceof CloseWebSocketFrame) {
                if (closeSent) {
                    ctx.close();
                } else {
                    closeSent = true;
                    ctx.writeAndFlush(frame.retain()).addListener(ChannelFutureListener.CLOSE);
                }
            } else if (frame instanceof PingWebSocketFrame) {
                ctx.writeAndFlush(new PongWebSocketFrame(frame.content().retain()));
            } else if (frame instanceof PongWebSocketFrame) {
                return;
            } else if (frame instanceof TextWebSocketFrame text && frame.isFinalFragment() && command(ctx, text.text())) {
                return;
            } else {
                ctx.writeAndFlush(frame.retain());
            }
        }

        private boolean command(ChannelHandlerContext ctx, String text) {
            if (text.equals("drop")) {
                ctx.close();
                return true;
            }
            if (text.equals("close-empty")) {
                sendClose(ctx, new CloseWebSocketFrame(true, 0, ctx.alloc().buffer(0)));
                return true;
            }
            if (text.startsWith("close ")) {
                String[] parts = text.split(" ", 3);
                int code = Integer.parseInt(parts[1]);
                String reason = parts.length > 2 ? parts[2] : "";
                ByteBuf body = ctx.alloc().buffer();
                body.writeShort(code).writeCharSequence(reason, StandardCharsets.UTF_8);
                sendClose(ctx, new CloseWebSocketFrame(true, 0, body));
                return true;
            }
            return false;
        }

        private void sendClose(ChannelHandlerContext ctx, CloseWebSocketFrame frame) {
            closeSent = true;
            ctx.writeAndFlush(frame);
            ctx.executor().schedule(() -> ctx.close(), 2, TimeUnit.SECONDS);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
