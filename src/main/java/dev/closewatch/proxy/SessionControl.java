package dev.closewatch.proxy;

import dev.closewatch.config.KeepaliveConfig;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.Direction;
import dev.closewatch.websocket.Initiator;
import dev.closewatch.websocket.WebSocketSession;
import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the proxy itself does to one relayed session: Pings and dead-peer detection, the idle
 * timeout, closes it starts (graceful drain, idle timeout, a frame over the size limit) and the
 * closing of both TCP connections. Runs on the session's event loop only.
 */
final class SessionControl {

    private static final Logger LOG = LoggerFactory.getLogger(SessionControl.class);

    private final WebSocketSession session;
    private final Channel client;
    private final Channel upstream;
    private final ProxySettings settings;
    private final KeepaliveConfig keepalive;
    private RelayHandler clientToUpstream;
    private RelayHandler upstreamToClient;

    private long lastClientReadNanos;
    private long lastReadNanos;
    private long lastPingNanos;
    /** A Ping was written to the client and the client has sent nothing since. */
    private boolean pingOutstanding;
    /** When the first Ping still outstanding was written. */
    private long pingWrittenNanos;
    /** Which endpoints shut down their output after their Close: [0] client, [1] upstream. */
    private final boolean[] inputShut = new boolean[2];
    private boolean halfClosed;
    private ScheduledFuture<?> tick;
    private ScheduledFuture<?> closeDeadline;
    /** The drain sent this session its Close: its end is counted as drained or cut. */
    private boolean drained;
    /** The proxy closed the connections at the deadline (or at the process's stop), not the endpoints. */
    private boolean cut;
    private boolean endCounted;

    SessionControl(WebSocketSession session, Channel client, Channel upstream, ProxySettings settings) {
        this.session = session;
        this.client = client;
        this.upstream = upstream;
        this.settings = settings;
        this.keepalive = settings.keepalive();
        long now = System.nanoTime();
        lastClientReadNanos = now;
        lastReadNanos = now;
        lastPingNanos = now;
    }

    /** Wires the two relays and starts the keepalive timer, if any. */
    void start(RelayHandler clientToUpstream, RelayHandler upstreamToClient) {
        this.clientToUpstream = clientToUpstream;
        this.upstreamToClient = upstreamToClient;
        if (keepalive.enabled()) {
            long period = smallestPositive(keepalive.pingInterval(), keepalive.idleTimeout().dividedBy(4),
                    keepalive.pingTimeout().dividedBy(4));
            tick = client.eventLoop().scheduleAtFixedRate(this::tick, period, period, TimeUnit.NANOSECONDS);
        }
    }

    private static long smallestPositive(Duration... durations) {
        long best = Long.MAX_VALUE;
        for (Duration d : durations) {
            if (!d.isZero() && d.toNanos() < best) {
                best = d.toNanos();
            }
        }
        return Math.max(best, TimeUnit.MILLISECONDS.toNanos(10));
    }

    WebSocketSession session() {
        return session;
    }

    /**
     * A read batch brought bytes from {@code side}: restarts the idle and ping timeouts and the
     * session's idle clock for that side (the close event's {@code client_idle_ms} /
     * {@code upstream_idle_ms}).
     */
    void activity(Initiator side) {
        long now = System.nanoTime();
        session.bytesRead(side, now);
        lastReadNanos = now;
        if (side == Initiator.CLIENT) {
            lastClientReadNanos = now;
            pingOutstanding = false;
        }
    }

    /**
     * A Ping of the proxy's own went to the client: the ping timeout counts from the first Ping
     * written since the client last sent anything, never from one that was only due (it waits for
     * a frame boundary, which a long frame may put off for longer than the timeout).
     */
    void pingWritten() {
        if (!pingOutstanding) {
            pingOutstanding = true;
            pingWrittenNanos = System.nanoTime();
        }
    }

    private void tick() {
        if (session.ended() || session.state() != WebSocketSession.State.OPEN) {
            return;
        }
        long now = System.nanoTime();
        if (!keepalive.pingTimeout().isZero() && pingOutstanding
                && now - pingWrittenNanos > keepalive.pingTimeout().toNanos()) {
            LOG.debug("[{}] client sent nothing for {} after a Ping: closing it (ping timeout)", client.id(),
                    dev.closewatch.config.Durations.format(keepalive.pingTimeout()));
            session.transportFailed(Initiator.CLIENT, Cause.PING_TIMEOUT);
            client.close();
            return;
        }
        if (!keepalive.idleTimeout().isZero() && now - lastReadNanos > keepalive.idleTimeout().toNanos()) {
            int code = keepalive.idleCloseCode();
            closeByProxy(code, code, code, "idle timeout", Cause.IDLE_TIMEOUT);
            return;
        }
        if (!keepalive.pingInterval().isZero() && now - lastPingNanos >= keepalive.pingInterval().toNanos()) {
            lastPingNanos = now;
            upstreamToClient.inject(ProxyFrames.ping(client.alloc(), now), false);
        }
    }

    /**
     * Starts a graceful close for a drain, with the configured code and reason; nothing if the
     * session is already closing or ended. Counted in {@code closewatch_drain_sessions_total} when
     * it ends.
     */
    void drain() {
        int code = settings.drain().closeCode();
        if (closeByProxy(code, code, code, settings.drain().reason(), Cause.DRAIN)) {
            drained = true;
        }
    }

    /**
     * The process stops: closes both connections now, whatever the close handshake's state; the
     * session counts as cut by the drain.
     */
    void cut() {
        if (session.ended()) {
            return;
        }
        drained = true;
        cut = true;
        RelayHandler.closeOnFlush(client);
        RelayHandler.closeOnFlush(upstream);
    }

    /**
     * A frame over {@code limits.max_frame_size} arrived travelling {@code direction}: Close 1009
     * to its sender, 1001 to the other side (RFC 6455 §7.4.1), unless the stream cannot be cut
     * cleanly there, in which case the other side's connection is simply closed.
     */
    void frameTooBig(Direction direction, boolean atFrameStart) {
        if (!session.proxyClose(1009, "frame too big", Cause.FRAME_TOO_BIG)) {
            (direction == Direction.CLIENT_TO_UPSTREAM ? clientToUpstream : upstreamToClient).startDiscarding();
            return;
        }
        LOG.info("[{}] route {} frame over {} bytes from the {}: closing with 1009", client.id(), session.route(),
                settings.limits().maxFrameSize(), direction.sender().label());
        boolean fromClient = direction == Direction.CLIENT_TO_UPSTREAM;
        RelayHandler senderward = fromClient ? upstreamToClient : clientToUpstream;
        RelayHandler onward = fromClient ? clientToUpstream : upstreamToClient;
        Channel sender = fromClient ? client : upstream;
        Channel receiver = fromClient ? upstream : client;
        senderward.inject(ProxyFrames.close(sender.alloc(), 1009, "frame too big", !fromClient), true);
        if (atFrameStart) {
            onward.injectAtStop(ProxyFrames.close(receiver.alloc(), 1001, "going away", fromClient));
        } else {
            // Part of the frame's header is already relayed: the receiver's stream cannot carry a
            // Close any more, so it gets none and the handshake is complete once the sender answers.
            session.proxyCloseOnlyTo(direction.sender());
            onward.startDiscarding();
            RelayHandler.closeOnFlush(receiver);
        }
        scheduleDeadline();
    }

    /**
     * The proxy closes the session: a Close with {@code clientCode} to the client (unmasked) and
     * one with {@code upstreamCode} to the upstream (masked), each at a frame boundary; both
     * connections close once both endpoints answered, or after {@code drain.timeout}.
     */
    boolean closeByProxy(int recordedCode, int clientCode, int upstreamCode, String reason, Cause cause) {
        if (!session.proxyClose(recordedCode, reason, cause)) {
            return false;
        }
        upstreamToClient.inject(ProxyFrames.close(client.alloc(), clientCode, reason, false), true);
        clientToUpstream.inject(ProxyFrames.close(upstream.alloc(), upstreamCode, reason, true), true);
        scheduleDeadline();
        return true;
    }

    private void scheduleDeadline() {
        closeDeadline = client.eventLoop().schedule(() -> {
            cut = true;
            RelayHandler.closeOnFlush(client);
            RelayHandler.closeOnFlush(upstream);
        }, settings.drain().timeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    /** After a read batch: once both endpoints answered the proxy's Close, close both connections. */
    void afterRead() {
        if (session.closedByProxy() && session.state() == WebSocketSession.State.CLOSED) {
            RelayHandler.closeOnFlush(client);
            RelayHandler.closeOnFlush(upstream);
        }
    }

    /** Whether an endpoint half-closed after its Close and waits for the answer. */
    boolean halfClosed() {
        return halfClosed;
    }

    /**
     * {@code side} shut down its output (a FIN) while its connection stays open for reading. After
     * its own Close frame that is the end of its stream, not of the session (RFC 6455 §7.1.1 lets
     * the endpoint that sent a Close wait for the answer; RFC 9293 §3.6 lets a half-closed peer
     * keep receiving): the FIN is passed on to the other endpoint once what was relayed to it is
     * flushed, and the answer still travels back. Without a Close of its own first, a FIN is an
     * abnormal end of the WebSocket connection (§7.1.5: 1006), as a full close would be: the
     * connection is closed and the session ends as before ({@code fin}). A half-closed session
     * is bounded by {@code drain.timeout}, like a close the proxy starts.
     */
    void inputShutdown(Initiator side) {
        Channel own = side == Initiator.CLIENT ? client : upstream;
        Channel other = side == Initiator.CLIENT ? upstream : client;
        int otherIndex = side == Initiator.CLIENT ? 1 : 0;
        if (session.state() != WebSocketSession.State.CLOSING || !session.closeFrameFrom(side)) {
            RelayHandler.closeOnFlush(own);
            return;
        }
        inputShut[1 - otherIndex] = true;
        halfClosed = true;
        if (inputShut[otherIndex]) {
            // both ends half-closed: nothing more can travel either way
            RelayHandler.closeOnFlush(own);
            RelayHandler.closeOnFlush(other);
        } else {
            RelayHandler.shutdownOutputOnFlush(other);
        }
        if (closeDeadline == null) {
            // an endpoint that never answers (or never closes) must not hold both connections
            scheduleDeadline();
        }
    }

    /** After a read batch while an endpoint is half-closed: once the handshake completed, close it. */
    void afterReadWhileHalfClosed() {
        if (session.state() != WebSocketSession.State.CLOSED) {
            return;
        }
        if (inputShut[0]) {
            RelayHandler.closeOnFlush(client);
        }
        if (inputShut[1]) {
            RelayHandler.closeOnFlush(upstream);
        }
    }

    /**
     * {@code side}'s connection is gone. Normally the other one is closed too; while the proxy waits
     * for the other endpoint's answer to its Close, it stays open until the answer or the deadline.
     */
    void transportClosed(Initiator side) {
        session.transportClosed(side);
        Channel other = side == Initiator.CLIENT ? upstream : client;
        Initiator otherSide = side == Initiator.CLIENT ? Initiator.UPSTREAM : Initiator.CLIENT;
        boolean awaitingAnswer = session.closedByProxy() && !session.closeFrameFrom(otherSide) && closeDeadline != null;
        if (!awaitingAnswer) {
            RelayHandler.closeOnFlush(other);
        }
        if (session.ended()) {
            cancelTimers();
            if (drained && !endCounted) {
                endCounted = true;
                settings.drainMeters().sessionEnded(cut);
            }
            settings.sessions().remove(this);
        }
    }

    private void cancelTimers() {
        if (tick != null) {
            tick.cancel(false);
        }
        if (closeDeadline != null) {
            closeDeadline.cancel(false);
        }
    }

    /** The client channel's event loop, where every method of this class runs. */
    io.netty.channel.EventLoop eventLoop() {
        return client.eventLoop();
    }
}
