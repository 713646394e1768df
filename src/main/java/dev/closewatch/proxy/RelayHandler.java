package dev.closewatch.proxy;

import dev.closewatch.observe.RouteMeters;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.Direction;
import dev.closewatch.websocket.FrameObserver;
import dev.closewatch.websocket.Initiator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Raw relay of one direction after the 101 (RFC 6455 §5): forwards the very {@link ByteBuf}s it
 * reads to the peer channel, after showing them to the direction's {@link FrameObserver}.
 * Flushes once per read batch; stops reading when the peer is not writable and resumes on
 * {@code channelWritabilityChanged}.
 *
 * <p>Frames of the proxy's own (Ping, Close) are {@linkplain #inject injected} at a frame
 * boundary of this direction, never inside a passing frame; after a Close is injected, the rest of
 * this direction is read (to see the endpoint's answering Close) but no longer relayed. Both
 * channels of a session share one event loop, so nothing here needs a lock.
 *
 * <p>Counting: the observer's frame and byte counts stand for what was delivered to the peer.
 * Bytes this handler reads and drops (a peer already gone, an oversized frame's header,
 * everything after a Close of the proxy's own) are reported to it as discarded; the proxy's own
 * frames written to the peer are reported as injected (delivered).
 *
 * <p>Half-close: the channel allows half-closure (RFC 9293 §3.6: a FIN ends one direction only),
 * so an endpoint that sends its Close and then shuts down its output still receives the
 * answering Close; {@link SessionControl#inputShutdown} decides what the FIN means.
 */
final class RelayHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(RelayHandler.class);

    private final Direction inbound;
    private final Initiator side;
    private final Channel peer;
    private final FrameObserver observer;
    private final RouteMeters meters;
    private final SessionControl control;
    private boolean limited;
    /** Something was read in this read batch: the session's idle clock for {@link #side} restarts once per batch. */
    private boolean readInBatch;

    private ByteBuf pendingInjection;
    private boolean pendingIsClose;
    private boolean discarding;

    /**
     * @param inbound the direction of the bytes this channel reads
     * @param peer    the channel they are forwarded to
     */
    RelayHandler(Direction inbound, Channel peer, SessionControl control, RouteMeters meters, long maxFramePayload) {
        this.inbound = inbound;
        this.side = inbound.sender();
        this.peer = peer;
        this.control = control;
        this.observer = control.session().observer(inbound);
        this.meters = meters;
        this.limited = maxFramePayload > 0;
        observer.maxFramePayload(maxFramePayload);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        // A flag on the config, no syscall: a FIN now arrives as ChannelInputShutdownEvent
        // instead of closing the channel (transports without the option ignore it).
        ctx.channel().config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
            LOG.warn("[{}] {} relay dropped unexpected {}", ctx.channel().id(), inbound.label(), msg.getClass().getName());
            ReferenceCountUtil.release(msg);
            return;
        }
        readInBatch = true;
        if (!discarding && pendingInjection == null && !limited) {
            observer.observe(buf);
            forward(ctx, buf);
            return;
        }
        readCarefully(ctx, buf);
        control.afterRead();
    }

    /** The slow path: an injection is waiting for a frame boundary, a frame-size limit applies, or we discard. */
    private void readCarefully(ChannelHandlerContext ctx, ByteBuf buf) {
        int from = buf.readerIndex();
        int end = buf.writerIndex();
        try {
            while (from < end) {
                if (discarding) {
                    observer.observe(buf.slice(from, end - from));
                    return;
                }
                int stop = observer.observe(buf, from, pendingInjection != null);
                if (stop == FrameObserver.NO_STOP) {
                    forward(ctx, buf.retainedSlice(from, end - from));
                    return;
                }
                if (stop > from) {
                    forward(ctx, buf.retainedSlice(from, stop - from));
                }
                if (observer.stoppedOnOversizedFrame()) {
                    // the oversized frame's header (or the rest of it) is never relayed
                    observer.discarded(observer.resumeIndex() - stop);
                    control.frameTooBig(inbound, !observer.oversizedHeaderSplit());
                } else {
                    writePending();
                }
                from = observer.resumeIndex();
            }
        } finally {
            buf.release();
        }
    }

    private void forward(ChannelHandlerContext ctx, ByteBuf buf) {
        if (!peer.isActive()) {
            observer.discarded(buf.readableBytes());
            buf.release();
            return;
        }
        peer.write(buf, peer.voidPromise());
        if (!peer.isWritable()) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    /**
     * Writes a frame of the proxy's own to the peer at the next frame boundary of this direction
     * (now, if the stream is between frames). A pending Ping gives way to a Close.
     *
     * @param frame   a complete frame; ownership passes here
     * @param isClose after a Close nothing more of this direction is relayed
     */
    void inject(ByteBuf frame, boolean isClose) {
        if (discarding || !peer.isActive() || (pendingInjection != null && pendingIsClose)) {
            frame.release();
            return;
        }
        if (pendingInjection != null) {
            pendingInjection.release();
            pendingInjection = null;
        }
        if (observer.atFrameBoundary()) {
            written(frame);
            peer.writeAndFlush(frame, peer.voidPromise());
            if (isClose) {
                startDiscarding();
            }
        } else {
            pendingInjection = frame;
            pendingIsClose = isClose;
        }
    }

    /**
     * Writes a frame now: this direction stopped right before an oversized frame, which is a frame
     * boundary for the peer even though the observer is inside that frame.
     */
    void injectAtStop(ByteBuf frame) {
        if (discarding || !peer.isActive()) {
            frame.release();
        } else {
            written(frame);
            peer.writeAndFlush(frame, peer.voidPromise());
        }
        startDiscarding();
    }

    /** Counts a frame of the proxy's own as delivered; a Ping starts the ping timeout. */
    private void written(ByteBuf frame) {
        int opcode = frame.getByte(frame.readerIndex()) & 0x0F;
        observer.injected(opcode, frame.readableBytes());
        if (opcode == 0x9) {
            control.pingWritten();
        }
    }

    private void writePending() {
        ByteBuf frame = pendingInjection;
        pendingInjection = null;
        if (frame != null) {
            written(frame);
            peer.write(frame, peer.voidPromise());
            if (pendingIsClose) {
                startDiscarding();
            }
        }
    }

    /** From now on this direction is observed but not relayed. */
    void startDiscarding() {
        observer.discardRest(meters);
        discarding = true;
        limited = false;
        observer.maxFramePayload(0);
        if (pendingInjection != null) {
            pendingInjection.release();
            pendingInjection = null;
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (readInBatch) {
            // one clock read per batch, not per buffer: the hot path stays a field write
            readInBatch = false;
            control.activity(side);
        }
        observer.drainCounts(meters);
        peer.flush();
        if (control.halfClosed()) {
            control.afterReadWhileHalfClosed();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            observer.drainCounts(meters);
            control.inputShutdown(side);
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // This channel's outbound buffer gates reading from the peer.
        if (ctx.channel().isWritable()) {
            peer.config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (pendingInjection != null) {
            pendingInjection.release();
            pendingInjection = null;
        }
        observer.drainCounts(meters);
        control.transportClosed(side);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            control.session().transportFailed(side, Cause.RESET);
            LOG.debug("[{}] {} connection failed: {}", ctx.channel().id(), side.label(), cause.toString());
        } else {
            LOG.warn("[{}] {} relay failed", ctx.channel().id(), side.label(), cause);
        }
        ctx.close();
    }

    /**
     * Ends {@code channel}'s output (a FIN, RFC 9293 §3.6) once everything written to it so far has
     * been flushed; it keeps reading. Closes it instead on a transport that cannot half-close.
     */
    static void shutdownOutputOnFlush(Channel channel) {
        if (!channel.isActive()) {
            return;
        }
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
            if (f.channel() instanceof io.netty.channel.socket.DuplexChannel duplex) {
                duplex.shutdownOutput();
            } else {
                f.channel().close();
            }
        });
    }

    /** Closes {@code channel} once everything written to it so far has been flushed. */
    static void closeOnFlush(Channel channel) {
        if (channel.isActive()) {
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
