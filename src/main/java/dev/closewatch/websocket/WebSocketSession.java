package dev.closewatch.websocket;

import static java.util.Objects.requireNonNull;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.catalog.CloseCode;
import java.time.Duration;
import java.time.Instant;
import java.util.function.LongSupplier;

/**
 * The close-handshake state machine of one relayed WebSocket session (RFC 6455 §7).
 *
 * <pre>
 * OPEN ──first Close frame──▶ CLOSING ──the other side's Close──▶ CLOSED
 *   └──────── both TCP connections gone ───────▶ one {@link CloseEvent}, exactly once
 * </pre>
 *
 * <p>Rules: an empty Close frame means 1005; TCP gone with no Close frame means 1006 with the
 * initiator being the side whose TCP went first and the cause {@code fin} or {@code reset}; a
 * Close frame never answered keeps its code with {@code clean=false}.
 *
 * <p>Not thread-safe: both connections of a session live on one event loop, and every method is
 * called there. The session owns one {@link FrameObserver} per direction.
 */
public final class WebSocketSession implements FrameObserver.Listener {

    /** Where the session is in the close handshake. */
    public enum State { OPEN, CLOSING, CLOSED }

    private final String id;
    private final String route;
    private final String client;
    private final String upstream;
    private final CloseCatalog catalog;
    private final SessionListener listener;
    private final LongSupplier nanoClock;
    private final Instant openedAt;
    private final long openedNanos;
    private final FrameObserver clientToUpstream;
    private final FrameObserver upstreamToClient;
    private final SessionFacts facts;

    private State state = State.OPEN;
    private int closeCode;
    private CloseCode closeClassification;
    private String closeReason = "";
    private Initiator closeInitiator;
    private long closeFrameNanos;
    private long closeHandshakeNanos = -1;
    /** The code of the first Close frame that answered the first one; null before any. */
    private Integer answerCode;
    private boolean closeFromClient;
    private boolean closeFromUpstream;
    private Cause proxyCause;
    /** Whether the proxy's Close went to the client [0] and to the upstream [1]. */
    private final boolean[] proxyCloseTo = new boolean[2];

    private Cause clientTransportCause;
    private Cause upstreamTransportCause;
    private Initiator firstTransportClosed;
    private boolean clientClosed;
    private long clientClosedNanos;
    private boolean upstreamClosed;
    private boolean ended;
    private String extensions;
    /** When bytes were last read from the client and from the upstream (nanoClock); the 101 before any. */
    private long lastClientReadNanos;
    private long lastUpstreamReadNanos;

    /**
     * Opens a session: the upstream has just answered 101 Switching Protocols.
     *
     * @param nanoClock monotonic clock in nanoseconds ({@code System::nanoTime} outside tests)
     */
    public WebSocketSession(String id, String route, String client, String upstream, CloseCatalog catalog,
                            SessionListener listener, LongSupplier nanoClock) {
        this(id, route, client, upstream, catalog, listener, nanoClock, SessionFacts.NONE);
    }

    /**
     * Opens a session whose opening handshake said {@code facts} about the client.
     *
     * @param nanoClock monotonic clock in nanoseconds ({@code System::nanoTime} outside tests)
     */
    public WebSocketSession(String id, String route, String client, String upstream, CloseCatalog catalog,
                            SessionListener listener, LongSupplier nanoClock, SessionFacts facts) {
        this.facts = requireNonNull(facts, "facts");
        this.id = requireNonNull(id, "id");
        this.route = requireNonNull(route, "route");
        this.client = requireNonNull(client, "client");
        this.upstream = requireNonNull(upstream, "upstream");
        this.catalog = requireNonNull(catalog, "catalog");
        this.listener = requireNonNull(listener, "listener");
        this.nanoClock = requireNonNull(nanoClock, "nanoClock");
        this.openedAt = Instant.now();
        this.openedNanos = nanoClock.getAsLong();
        this.lastClientReadNanos = openedNanos;
        this.lastUpstreamReadNanos = openedNanos;
        this.clientToUpstream = new FrameObserver(Direction.CLIENT_TO_UPSTREAM, catalog, this);
        this.upstreamToClient = new FrameObserver(Direction.UPSTREAM_TO_CLIENT, catalog, this);
        listener.onOpen(this);
    }

    /**
     * The extensions the upstream's 101 agreed to (RFC 6455 §9.1): the value of its
     * {@code Sec-WebSocket-Extensions} header, or null when there is none. An extension may give
     * meaning to RSV bits (permessage-deflate, RFC 7692, uses RSV1).
     */
    public void negotiatedExtensions(String secWebSocketExtensions) {
        this.extensions = secWebSocketExtensions;
        ReservedBits bits = ReservedBits.forExtensions(secWebSocketExtensions);
        clientToUpstream.reservedBits(bits);
        upstreamToClient.reservedBits(bits);
    }

    /** The 101's {@code Sec-WebSocket-Extensions} value, or null. */
    public String negotiatedExtensions() {
        return extensions;
    }

    /**
     * When the client's TCP connection ended, on the session's nano clock; the current time before
     * it ended. The client's view of the session's end, which a reconnect is measured from.
     */
    public long clientClosedNanos() {
        return clientClosed ? clientClosedNanos : nanoClock.getAsLong();
    }

    /** What the opening handshake said about the client. */
    public SessionFacts facts() {
        return facts;
    }

    /** The observer for frames travelling {@code direction}. */
    public FrameObserver observer(Direction direction) {
        return direction == Direction.CLIENT_TO_UPSTREAM ? clientToUpstream : upstreamToClient;
    }

    @Override
    public void onCloseFrame(Direction direction, int code, CloseCode classification, String reason) {
        Initiator sender = direction.sender();
        if (sender == Initiator.CLIENT) {
            closeFromClient = true;
        } else {
            closeFromUpstream = true;
        }
        if (state == State.OPEN) {
            state = State.CLOSING;
            closeCode = code;
            closeClassification = classification;
            closeReason = reason;
            closeInitiator = sender;
            closeFrameNanos = nanoClock.getAsLong();
        } else if (state == State.CLOSING) {
            if (answerCode == null && sender != closeInitiator) {
                answerCode = code;
            }
            if (handshakeAnswered()) {
                state = State.CLOSED;
                closeHandshakeNanos = nanoClock.getAsLong() - closeFrameNanos;
            }
        }
    }

    /** Whether everyone the first Close frame went to has answered it (RFC 6455 §5.5.1). */
    private boolean handshakeAnswered() {
        return switch (closeInitiator) {
            case CLIENT -> closeFromUpstream;
            case UPSTREAM -> closeFromClient;
            case PROXY -> (closeFromClient || !proxyCloseTo[0]) && (closeFromUpstream || !proxyCloseTo[1]);
        };
    }

    /**
     * The proxy starts the close handshake itself (graceful drain, idle timeout, a frame over the
     * size limit): it sends Close frames to both endpoints, and the session is clean once both
     * answer. Does nothing unless the session is {@link State#OPEN}.
     *
     * @param code   the status code recorded (and sent)
     * @param reason the close reason sent
     * @param cause  why the proxy closes: {@link Cause#DRAIN}, {@link Cause#IDLE_TIMEOUT}, …
     * @return true if the session was open and is now closing
     */
    public boolean proxyClose(int code, String reason, Cause cause) {
        if (state != State.OPEN) {
            return false;
        }
        proxyCloseTo[0] = true;
        proxyCloseTo[1] = true;
        state = State.CLOSING;
        closeCode = code;
        closeClassification = catalog.classifyWire(code);
        closeReason = reason;
        closeInitiator = Initiator.PROXY;
        proxyCause = requireNonNull(cause, "cause");
        closeFrameNanos = nanoClock.getAsLong();
        return true;
    }

    /**
     * The proxy's Close goes to {@code side} only: the other endpoint's connection is cut without
     * one (its stream could not be ended at a frame boundary), so the handshake completes when
     * {@code side} answers. Call right after {@link #proxyClose}.
     */
    public void proxyCloseOnlyTo(Initiator side) {
        proxyCloseTo[0] = side == Initiator.CLIENT;
        proxyCloseTo[1] = side == Initiator.UPSTREAM;
    }

    /**
     * Bytes were read from {@code side} at {@code nanos} (the same monotonic clock as the
     * session's): the idle times of the {@link CloseEvent} count from the last such read. The
     * relay calls it once per read batch, not per frame: "idle" means no bytes at all arrived
     * from that side, whether whole frames, parts of one, or Pongs answering the proxy's Pings.
     */
    public void bytesRead(Initiator side, long nanos) {
        if (side == Initiator.CLIENT) {
            lastClientReadNanos = nanos;
        } else {
            lastUpstreamReadNanos = nanos;
        }
    }

    /** Whether a Close frame from {@code side} has passed. */
    public boolean closeFrameFrom(Initiator side) {
        return side == Initiator.CLIENT ? closeFromClient : closeFromUpstream;
    }

    /** Whether the proxy started this session's close handshake. */
    public boolean closedByProxy() {
        return closeInitiator == Initiator.PROXY;
    }

    @Override
    public void onViolation(Direction direction, Violation violation) {
        listener.onViolation(this, direction, violation);
    }

    /**
     * Notes why {@code side}'s TCP connection is about to end (e.g. {@link Cause#RESET} on an I/O
     * error); the first cause noted for a side wins. Without one, a closed connection counts as
     * {@link Cause#FIN}.
     */
    public void transportFailed(Initiator side, Cause cause) {
        if (side == Initiator.CLIENT && clientTransportCause == null) {
            clientTransportCause = cause;
        } else if (side == Initiator.UPSTREAM && upstreamTransportCause == null) {
            upstreamTransportCause = cause;
        }
    }

    /** How {@code side}'s TCP connection ended: the first cause noted, else FIN. */
    private Cause transportCause(Initiator side) {
        Cause cause = side == Initiator.CLIENT ? clientTransportCause : upstreamTransportCause;
        return cause == null ? Cause.FIN : cause;
    }

    /**
     * {@code side}'s TCP connection is gone. When both are, the session ends and its
     * {@link CloseEvent} goes to the listener; later calls do nothing.
     *
     * @param side {@link Initiator#CLIENT} or {@link Initiator#UPSTREAM}
     */
    public void transportClosed(Initiator side) {
        if (side == Initiator.PROXY) {
            throw new IllegalArgumentException("side: proxy (expected: client or upstream)");
        }
        if (firstTransportClosed == null) {
            firstTransportClosed = side;
        }
        if (side == Initiator.CLIENT) {
            if (!clientClosed) {
                clientClosedNanos = nanoClock.getAsLong();
            }
            clientClosed = true;
        } else {
            upstreamClosed = true;
        }
        if (clientClosed && upstreamClosed && !ended) {
            ended = true;
            listener.onClose(this, closeEvent());
        }
    }

    private CloseEvent closeEvent() {
        long now = nanoClock.getAsLong();
        int code;
        CloseCode classification;
        Initiator initiator;
        Cause cause;
        if (state == State.OPEN) {
            initiator = firstTransportClosed;
            cause = transportCause(initiator);
            code = cause == Cause.TLS_HANDSHAKE ? CloseCatalog.TLS_HANDSHAKE : CloseCatalog.ABNORMAL_CLOSURE;
            classification = catalog.lookup(code);
        } else {
            code = closeCode;
            classification = closeClassification;
            initiator = closeInitiator;
            cause = initiator == Initiator.PROXY ? proxyCause
                    : state == State.CLOSED ? Cause.CLOSE_HANDSHAKE
                    : transportCause(firstTransportClosed);
        }
        return new CloseEvent(id, route, client, upstream, code, classification, closeReason, initiator,
                state == State.CLOSED, state != State.OPEN, cause, openedAt,
                Duration.ofNanos(now - openedNanos),
                closeHandshakeNanos < 0 ? null : Duration.ofNanos(closeHandshakeNanos),
                clientToUpstream.totalBytes(), upstreamToClient.totalBytes(), answerCode,
                Duration.ofNanos(Math.max(0, now - lastClientReadNanos)),
                Duration.ofNanos(Math.max(0, now - lastUpstreamReadNanos)));
    }

    public String id() {
        return id;
    }

    public String route() {
        return route;
    }

    public String client() {
        return client;
    }

    public String upstream() {
        return upstream;
    }

    public State state() {
        return state;
    }

    public Instant openedAt() {
        return openedAt;
    }

    /** Whether the session's {@link CloseEvent} has been emitted. */
    public boolean ended() {
        return ended;
    }
}
