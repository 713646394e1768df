package dev.closewatch.bench.load;

import dev.closewatch.proxy.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The floor under any Netty proxy: a blind TCP relay in the shape of Netty's own proxy example,
 * with nothing of closewatch's (no HTTP parsing, no frame observer, no metrics). Each accepted
 * connection gets one upstream connection on the same event loop; bytes are written as read and
 * flushed once per read batch, with the same back-pressure as closewatch's relay; either side's
 * close closes the other after a flush. closewatch's {@link Transport}, thread count, water marks
 * and read buffers, so the difference between the two is closewatch's own work.
 *
 * <p>{@code java … NettyTcpRelay UPSTREAM_PORT THREADS [WORK_MICROS]}: prints {@code READY <port>}
 * once listening on 127.0.0.1, and exits when its standard input closes. {@code WORK_MICROS}
 * (default 0) is CPU work added to every read, on the event loop, in either direction: the
 * benchmark's {@code netty-tcp-slow} target, a stand-in for a proxy whose hot path got slower,
 * which proves the CI regression guard fails when it should. Nothing like it exists in closewatch.
 */
public final class NettyTcpRelay {

    private NettyTcpRelay() {
    }

    public static void main(String[] args) throws Exception {
        int upstreamPort = Integer.parseInt(args[0]);
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : Runtime.getRuntime().availableProcessors();
        long workNanos = args.length > 2 ? Long.parseLong(args[2]) * 1000 : 0;
        Transport transport = Transport.best();
        EventLoopGroup group = transport.newGroup(threads);
        InetSocketAddress upstream = new InetSocketAddress("127.0.0.1", upstreamPort);
        Channel listener = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, Transport.WATER_MARK)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, Transport.newRecvAllocator())
                .childHandler(new Front(upstream, transport, workNanos))
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        System.out.println("READY " + ((InetSocketAddress) listener.localAddress()).getPort());
        System.out.flush();
        try {
            while (System.in.read() >= 0) {
                // Wait for the benchmark to close our standard input.
            }
        } catch (IOException e) {
            // The parent is gone: stop as well.
        }
        listener.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** Shared by all accepted channels: connects the upstream, then relays. */
    @ChannelHandler.Sharable
    private static final class Front extends ChannelInboundHandlerAdapter {
        private final InetSocketAddress upstream;
        private final Transport transport;
        private final long workNanos;

        Front(InetSocketAddress upstream, Transport transport, long workNanos) {
            this.upstream = upstream;
            this.transport = transport;
            this.workNanos = workNanos;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel client = ctx.channel();
            ChannelFuture f = new Bootstrap()
                    .group(client.eventLoop())
                    .channel(transport.socketChannel())
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, Transport.WATER_MARK)
                    .option(ChannelOption.RCVBUF_ALLOCATOR, Transport.newRecvAllocator())
                    .handler(new Relay(client, workNanos))
                    .connect(upstream);
            f.addListener((ChannelFutureListener) done -> {
                if (!client.isActive()) {
                    done.channel().close(); // the client left while the upstream was connecting
                } else if (done.isSuccess()) {
                    client.pipeline().replace(this, "relay", new Relay(done.channel(), workNanos));
                    client.config().setAutoRead(true);
                } else {
                    client.close();
                }
            });
        }
    }

    /** Writes what one channel reads to the other; flushes per read batch; closes the other on close. */
    private static final class Relay extends ChannelInboundHandlerAdapter {
        private final Channel peer;
        private final long workNanos;

        Relay(Channel peer, long workNanos) {
            this.peer = peer;
            this.workNanos = workNanos;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (workNanos > 0) {
                spin(workNanos);
            }
            peer.write(msg, peer.voidPromise());
            if (!peer.isWritable()) {
                ctx.channel().config().setAutoRead(false); // back-pressure, as closewatch's relay
            }
        }

        /** Busy CPU work on the event loop (a spin, not a sleep: it costs CPU, as a slower hot path would). */
        private static void spin(long nanos) {
            long end = System.nanoTime() + nanos;
            while (System.nanoTime() < end) {
                Thread.onSpinWait();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                peer.config().setAutoRead(true);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            peer.flush();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (peer.isActive()) {
                peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
