package dev.closewatch.bench.load;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The benchmark's upstream, run as its own process so that its memory, CPU and file descriptors
 * are nobody else's: a minimal RFC 6455 server on 127.0.0.1. Path {@code /stream} sends 64 KiB
 * binary frames as fast as the connection takes them; any other path echoes every data frame,
 * unmasked (§5.1). A Close frame is answered with a Close carrying the same status code, then TCP
 * is closed (§7.1.1: the server closes first).
 *
 * <p>{@code java … BenchUpstream PORT THREADS}: prints {@code READY <port>} once listening, and
 * exits when its standard input closes (so it never outlives the benchmark).
 */
public final class BenchUpstream {

    /** Payload of one {@code /stream} frame. */
    public static final int STREAM_FRAME = 64 * 1024;

    private BenchUpstream() {
    }

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : Runtime.getRuntime().availableProcessors();
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads,
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        ByteBuf streamFrame = WsWire.readOnly(WsWire.frame(WsWire.OP_BINARY, WsWire.ascii(STREAM_FRAME), null));
        Channel listener = new ServerBootstrap()
                .group(group)
                .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new Handler(streamFrame));
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", port)).sync().channel();
        System.out.println("READY " + ((InetSocketAddress) listener.localAddress()).getPort());
        System.out.flush();
        InputStream in = System.in;
        try {
            while (in.read() >= 0) {
                // Wait for the benchmark to close our standard input.
            }
        } catch (IOException e) {
            // The parent is gone: stop as well.
        }
        listener.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private static final class Handler extends ByteToMessageDecoder {
        private final ByteBuf streamFrame;
        private boolean open;
        private boolean streaming;
        private boolean closed;

        Handler(ByteBuf streamFrame) {
            this.streamFrame = streamFrame;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            if (closed) {
                in.skipBytes(in.readableBytes());
                return;
            }
            if (!open && !handshake(ctx, in)) {
                return;
            }
            while (!closed && in.readableBytes() >= 2) {
                int start = in.readerIndex();
                byte b0 = in.getByte(start);
                byte b1 = in.getByte(start + 1);
                int len7 = b1 & 0x7F;
                boolean masked = (b1 & 0x80) != 0;
                int header = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (masked ? 4 : 0);
                if (in.readableBytes() < header) {
                    return;
                }
                long length = len7 == 126 ? in.getUnsignedShort(start + 2) : len7 == 127 ? in.getLong(start + 2) : len7;
                if (length > 16 * 1024 * 1024) {
                    ctx.close();
                    return;
                }
                if (in.readableBytes() < header + length) {
                    return;
                }
                int opcode = b0 & 0x0F;
                int key = masked ? in.getInt(start + header - 4) : 0;
                int payload = start + header;
                int n = (int) length;
                if (opcode == WsWire.OP_CLOSE) {
                    closed = true;
                    streaming = false;
                    ByteBuf reply = ctx.alloc().directBuffer(2 + Math.min(n, 2));
                    reply.writeByte(0x80 | WsWire.OP_CLOSE).writeByte(Math.min(n, 2));
                    for (int k = 0; k < Math.min(n, 2); k++) {
                        reply.writeByte(in.getByte(payload + k) ^ (key >>> (24 - 8 * k)));
                    }
                    ctx.writeAndFlush(reply).addListener(ChannelFutureListener.CLOSE);
                } else if (opcode == WsWire.OP_PING) {
                    ctx.write(unmaskedCopy(ctx, in, WsWire.OP_PONG | (b0 & 0x80), payload, n, key));
                } else if (!streaming && opcode != WsWire.OP_PONG) {
                    ctx.write(unmaskedCopy(ctx, in, b0 & 0xFF, payload, n, key));
                }
                in.readerIndex(payload + n);
            }
        }

        /** The frame back, unmasked (server frames are never masked, §5.1). */
        private static ByteBuf unmaskedCopy(ChannelHandlerContext ctx, ByteBuf in, int b0, int payload, int n, int key) {
            int header = 2 + (n <= 125 ? 0 : n <= 0xFFFF ? 2 : 8);
            ByteBuf out = ctx.alloc().directBuffer(header + n);
            out.writeByte(b0);
            if (n <= 125) {
                out.writeByte(n);
            } else if (n <= 0xFFFF) {
                out.writeByte(126).writeShort(n);
            } else {
                out.writeByte(127).writeLong(n);
            }
            long key8 = ((key & 0xFFFFFFFFL) << 32) | (key & 0xFFFFFFFFL);
            int k = 0;
            for (; k + 8 <= n; k += 8) {
                out.writeLong(in.getLong(payload + k) ^ key8);
            }
            for (; k < n; k++) {
                out.writeByte(in.getByte(payload + k) ^ (key >>> (24 - 8 * (k & 3))));
            }
            return out;
        }

        /** Reads the request head; answers 101. False until the head is complete. */
        private boolean handshake(ChannelHandlerContext ctx, ByteBuf in) {
            int end = -1;
            for (int i = in.readerIndex(); i + 3 < in.writerIndex(); i++) {
                if (in.getByte(i) == '\r' && in.getByte(i + 1) == '\n' && in.getByte(i + 2) == '\r'
                        && in.getByte(i + 3) == '\n') {
                    end = i + 4;
                    break;
                }
            }
            if (end < 0) {
                if (in.readableBytes() > 16384) {
                    ctx.close();
                }
                return false;
            }
            String head = in.toString(in.readerIndex(), end - in.readerIndex(), StandardCharsets.ISO_8859_1);
            in.readerIndex(end);
            String key = null;
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("Sec-WebSocket-Key")) {
                    key = line.substring(colon + 1).trim();
                }
            }
            if (key == null) {
                ctx.writeAndFlush(ctx.alloc().buffer().writeBytes(
                        "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                                .getBytes(StandardCharsets.US_ASCII))).addListener(ChannelFutureListener.CLOSE);
                closed = true;
                return false;
            }
            open = true;
            ctx.writeAndFlush(ctx.alloc().directBuffer().writeBytes(WsWire.switchingProtocols(key)));
            if (head.startsWith("GET /stream")) {
                streaming = true;
                pump(ctx);
            }
            return true;
        }

        private void pump(ChannelHandlerContext ctx) {
            Channel ch = ctx.channel();
            while (streaming && ch.isWritable()) {
                ch.writeAndFlush(WsWire.share(streamFrame), ch.voidPromise());
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
            ctx.flush();
            super.channelReadComplete(ctx);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
            if (streaming && ctx.channel().isWritable()) {
                pump(ctx);
            }
            super.channelWritabilityChanged(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
