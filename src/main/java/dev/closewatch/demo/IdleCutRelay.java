package dev.closewatch.demo;

import static java.util.Objects.requireNonNull;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The demo's stand-in for a load balancer with a short idle timeout: a plain TCP relay on
 * 127.0.0.1 in front of closewatch that passes bytes through unchanged and, when a connection has
 * carried no bytes either way for {@code idleTimeout}, closes both of its TCP connections with no
 * WebSocket Close frame — what nginx's {@code proxy_read_timeout} or an AWS ALB's idle timeout do.
 * closewatch then sees the client leg end with no Close frame and records a 1006 (initiator
 * {@code client}, cause {@code fin}) after {@code idleTimeout} of silence, which its diagnosis
 * reports as an idle-timeout signature on the client leg.
 *
 * <p>One event loop; the connection to closewatch is made on the accepted connection's loop, and
 * reading from each side waits until the other side is connected (the relay holds no bytes).
 */
public final class IdleCutRelay implements AutoCloseable {

    private final OneLoopServer server;
    private final AtomicLong cuts;

    private IdleCutRelay(OneLoopServer server, AtomicLong cuts) {
        this.server = server;
        this.cuts = cuts;
    }

    /**
     * Starts a relay on {@code 127.0.0.1} (a free port) to {@code target}.
     *
     * @param idleTimeout no bytes either way for this long (&gt; 0) closes both connections
     * @throws IllegalArgumentException if {@code idleTimeout} is not positive
     * @throws InterruptedException     if interrupted while binding
     */
    public static IdleCutRelay start(InetSocketAddress target, Duration idleTimeout) throws InterruptedException {
        requireNonNull(target, "target");
        if (idleTimeout.isZero() || idleTimeout.isNegative()) {
            throw new IllegalArgumentException("idleTimeout: " + idleTimeout + " (expected: > 0)");
        }
        AtomicLong cuts = new AtomicLong();
        OneLoopServer server = OneLoopServer.bind(new InetSocketAddress("127.0.0.1", 0), b -> b
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(
                                new IdleStateHandler(0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS),
                                new ClientSide(target, cuts));
                    }
                }));
        return new IdleCutRelay(server, cuts);
    }

    /** Connections cut for idleness so far. */
    public long cuts() {
        return cuts.get();
    }

    /** The address clients connect to. */
    public InetSocketAddress address() {
        return server.address();
    }

    @Override
    public void close() {
        server.close();
    }

    /**
     * One side of a relayed connection: what it reads goes to its peer, and when it ends the peer
     * goes once its writes are flushed.
     */
    private static class Forward extends ChannelInboundHandlerAdapter {
        /** The other connection; set at once on closewatch's side, once connecting on the client's. */
        Channel peer;

        Forward(Channel peer) {
            this.peer = peer;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            forward(ctx.channel(), peer, msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closeOnFlush(peer);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** The client's connection: connects to closewatch, then relays both ways until idle. */
    private static final class ClientSide extends Forward {
        private final InetSocketAddress target;
        private final AtomicLong cuts;

        ClientSide(InetSocketAddress target, AtomicLong cuts) {
            super(null);
            this.target = target;
            this.cuts = cuts;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel inbound = ctx.channel();
            peer = new Bootstrap().group(inbound.eventLoop()).channel(NioSocketChannel.class)
                    .option(ChannelOption.AUTO_READ, false)
                    .handler(new Forward(inbound))
                    .connect(target).addListener((ChannelFutureListener) f -> {
                        if (f.isSuccess() && !inbound.isActive()) {
                            // The client left while this connected: its channelInactive found no peer to close.
                            f.channel().close();
                        } else if (f.isSuccess()) {
                            inbound.read();
                            f.channel().read();
                        } else {
                            inbound.close();
                        }
                    }).channel();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent e && e.state() == IdleState.ALL_IDLE) {
                // An idle timeout: both connections go, no Close frame, as a balancer does it.
                cuts.incrementAndGet();
                ctx.close();
                peer.close();
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }
    }

    /** Writes {@code msg} to {@code to}, reading the next batch from {@code from} once written. */
    private static void forward(Channel from, Channel to, Object msg) {
        if (to == null || !to.isActive()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        to.writeAndFlush(msg).addListener((ChannelFutureListener) f -> {
            if (f.isSuccess()) {
                from.read();
            } else {
                f.channel().close();
                from.close();
            }
        });
    }

    private static void closeOnFlush(Channel ch) {
        if (ch != null && ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
