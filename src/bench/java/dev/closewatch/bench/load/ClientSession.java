package dev.closewatch.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;

/**
 * One WebSocket client connection of the load driver: sends the opening handshake, checks for
 * the 101, then reads frames with a {@link FrameReader} and hands events to the scenario. Runs
 * on its channel's event loop only; counters are read by the scenario after the channel closed.
 */
abstract class ClientSession extends ChannelInboundHandlerAdapter implements FrameReader.Listener {

    private static final byte[] STATUS_101 = "HTTP/1.1 101".getBytes(StandardCharsets.US_ASCII);

    private final ByteBuf request;
    private final FrameReader reader = new FrameReader();
    private ByteBuf head;
    private boolean open;
    /** The channel, once active. */
    protected Channel channel;
    /** Whether this side sent its Close frame / received the peer's. */
    protected boolean closeSent;
    protected boolean closeReceived;
    /** What went wrong, if anything (a short label for the report). */
    protected String failure;
    /** Counted down once {@link #onClosed()} has run: the session's counts are final. */
    final CountDownLatch ended = new CountDownLatch(1);

    /** @param request the shared read-only opening handshake ({@link WsWire#upgradeRequest}) */
    ClientSession(ByteBuf request) {
        this.request = request;
    }

    /** The 101 arrived: the WebSocket connection is open. */
    protected abstract void onOpen();

    /** A data frame (text, binary or continuation) was read completely. */
    protected void onData(int opcode, long length) {
    }

    /** {@code n} bytes arrived after the 101. */
    protected void onBytes(int n) {
    }

    /** The TCP connection is gone (whatever happened before). */
    protected abstract void onClosed();

    /** Sends a Close frame with status code 1000 (§5.5.1), once. */
    protected final void sendClose(ByteBuf closeFrame) {
        if (!closeSent && channel.isActive()) {
            closeSent = true;
            channel.writeAndFlush(WsWire.share(closeFrame), channel.voidPromise());
        }
    }

    final boolean isOpen() {
        return open;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        ctx.writeAndFlush(WsWire.share(request), ctx.voidPromise());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        try {
            if (open) {
                onBytes(buf.readableBytes());
                reader.read(buf, this);
                return;
            }
            if (head == null) {
                head = ctx.alloc().heapBuffer(256);
            }
            head.writeBytes(buf);
            int end = headEnd(head);
            if (end < 0) {
                if (head.readableBytes() > 8192) {
                    fail("handshake: no end of response head in 8 KiB");
                }
                return;
            }
            for (int i = 0; i < STATUS_101.length; i++) {
                if (head.readableBytes() < STATUS_101.length || head.getByte(i) != STATUS_101[i]) {
                    fail("handshake: not 101");
                    return;
                }
            }
            open = true;
            head.readerIndex(end);
            onOpen();
            if (head.isReadable()) {
                onBytes(head.readableBytes());
                reader.read(head, this);
            }
            head.release();
            head = null;
        } finally {
            buf.release();
        }
    }

    private static int headEnd(ByteBuf b) {
        for (int i = b.readerIndex(); i + 3 < b.writerIndex(); i++) {
            if (b.getByte(i) == '\r' && b.getByte(i + 1) == '\n' && b.getByte(i + 2) == '\r' && b.getByte(i + 3) == '\n') {
                return i + 4;
            }
        }
        return -1;
    }

    @Override
    public final void onFrame(int opcode, long length, int closeCode) {
        if (opcode == WsWire.OP_CLOSE) {
            closeReceived = true;
            if (closeCode != WsWire.NORMAL_CLOSURE) {
                failure = "close code " + closeCode + " received";
            }
            // The server closes TCP after its Close (§7.1.1); nothing more to send.
            return;
        }
        if (opcode <= WsWire.OP_BINARY) {
            onData(opcode, length);
        }
    }

    protected final void fail(String what) {
        if (failure == null) {
            failure = what;
        }
        channel.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (head != null) {
            head.release();
            head = null;
        }
        try {
            onClosed();
        } finally {
            ended.countDown();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (failure == null) {
            failure = cause instanceof IOException ? "io: " + cause.getMessage() : cause.toString();
        }
        ctx.close();
    }
}
