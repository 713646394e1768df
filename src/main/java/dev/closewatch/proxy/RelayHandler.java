package dev.closewatch.proxy;

import dev.closewatch.observe.RouteMeters;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.Direction;
import dev.closewatch.websocket.FrameObserver;
import dev.closewatch.websocket.Initiator;
import dev.closewatch.websocket.WebSocketSession;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Raw relay of one direction after the 101 (RFC 6455 §5): forwards the very {@link ByteBuf}s it
 * reads to the peer channel, after showing them to the direction's {@link FrameObserver}.
 * Flushes once per read batch; stops reading when the peer is not writable and resumes on
 * {@code channelWritabilityChanged}. Installed on both channels of a session, which share one
 * event loop, so nothing here needs a lock.
 */
final class RelayHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(RelayHandler.class);

    private final Direction inbound;
    private final Initiator side;
    private final Channel peer;
    private final WebSocketSession session;
    private final FrameObserver observer;
    private final RouteMeters meters;

    /**
     * @param inbound the direction of the bytes this channel reads
     * @param peer    the channel they are forwarded to
     */
    RelayHandler(Direction inbound, Channel peer, WebSocketSession session, RouteMeters meters) {
        this.inbound = inbound;
        this.side = inbound.sender();
        this.peer = peer;
        this.session = session;
        this.observer = session.observer(inbound);
        this.meters = meters;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
            // Only a codec left in the pipeline by mistake could send anything else.
            LOG.warn("[{}] {} relay dropped unexpected {}", ctx.channel().id(), inbound.label(), msg.getClass().getName());
            ReferenceCountUtil.release(msg);
            return;
        }
        observer.observe(buf);
        if (!peer.isActive()) {
            buf.release();
            return;
        }
        peer.write(buf, peer.voidPromise());
        if (!peer.isWritable()) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        observer.drainCounts(meters);
        peer.flush();
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
        observer.drainCounts(meters);
        session.transportClosed(side);
        closeOnFlush(peer);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            session.transportFailed(side, Cause.RESET);
            LOG.debug("[{}] {} connection failed: {}", ctx.channel().id(), side.label(), cause.toString());
        } else {
            LOG.warn("[{}] {} relay failed", ctx.channel().id(), side.label(), cause);
        }
        ctx.close();
    }

    /** Closes {@code channel} once everything written to it so far has been flushed. */
    static void closeOnFlush(Channel channel) {
        if (channel.isActive()) {
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
