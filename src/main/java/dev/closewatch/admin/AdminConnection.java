package dev.closewatch.admin;

import dev.closewatch.observe.LogText;
import io.micrometer.core.instrument.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One admin connection's guard, first in its pipeline (it sees the raw bytes): admission against
 * {@code admin.max_connections}, the request-head timeout, the keep-alive timeout, and the
 * lingering close. The request handler further up tells it where the connection stands
 * ({@link #requestReceived}, {@link #responseWritten}, {@link #responseDone}, {@link #streaming}).
 * Runs on the admin event loop only.
 *
 * <p>Timers (one at a time): from the accept, or from the first byte of a later request, the
 * whole request (head and its small body) must arrive within {@code admin.request_head_timeout}
 * (else 408 and close; a plain close when nothing arrived at all); between a response and the
 * next request's first byte the connection may idle for {@code admin.keepalive_timeout} (RFC 9112
 * §9.8 lets a server close an idle connection); a response must be taken by the client within
 * {@code admin.keepalive_timeout}. A request at a worker and an event stream have no timer.
 */
final class AdminConnection extends ChannelInboundHandlerAdapter {

    /** Where a connection stands; the states {@link AdminConnections} may evict are listed in {@link #EVICTION_ORDER}. */
    enum State {
        /** Accepted; no byte yet. */
        AWAITING_HEAD,
        /** Some bytes of a request, not the whole request yet. */
        READING_HEAD,
        /** A complete request being answered (at a worker, or on the event loop). */
        WORKING,
        /** A response written, not yet all taken by the client. */
        WRITING,
        /** Between a response and the next request. */
        IDLE,
        /** An open {@code /api/closes/stream}. */
        STREAMING,
        /** Answered for the last time: waiting (a bounded time) for the client to close. */
        CLOSING
    }

    /**
     * What to evict first: a connection answered for the last time (lingering), then one without a
     * complete request head, then an idle one, then a slow reader.
     */
    static final List<Set<State>> EVICTION_ORDER = List.of(Set.of(State.CLOSING),
            Set.of(State.AWAITING_HEAD, State.READING_HEAD), Set.of(State.IDLE), Set.of(State.WRITING));

    /** How long a closing connection is read (and what is read discarded) before it is closed. */
    static final long LINGER_MILLIS = 2000;

    private static final Logger LOG = LoggerFactory.getLogger(AdminConnection.class);

    private final AdminConnections connections;
    private final AdminMeters meters;
    private final Duration headTimeout;
    private final Duration keepaliveTimeout;
    private ChannelHandlerContext ctx;
    private State state = State.AWAITING_HEAD;
    private boolean admitted;
    private ScheduledFuture<?> timer;

    AdminConnection(AdminConnections connections, AdminMeters meters, Duration headTimeout, Duration keepaliveTimeout) {
        this.connections = connections;
        this.meters = meters;
        this.headTimeout = headTimeout;
        this.keepaliveTimeout = keepaliveTimeout;
    }

    State state() {
        return state;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (!connections.admit(this)) {
            meters.maxConnections.increment();
            LOG.atDebug().addKeyValue("event", "admin.connection_refused").addKeyValue("client", client())
                    .log("admin connection refused: admin.max_connections reached and none to evict");
            answerAndClose(503, "Service Unavailable", "too many admin connections (expected: at most admin.max_connections)\n");
            return;
        }
        admitted = true;
        schedule(headTimeout, this::headTimedOut);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.CLOSING) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (state == State.IDLE && msg instanceof ByteBuf buf && buf.isReadable()) {
            state = State.READING_HEAD;
            schedule(headTimeout, this::headTimedOut);
        } else if (state == State.AWAITING_HEAD) {
            state = State.READING_HEAD;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelTimer();
        if (admitted) {
            connections.remove(this);
        }
        ctx.fireChannelInactive();
    }

    /** A complete request is being answered: no timer, no more reads until it is. */
    void requestReceived() {
        if (state == State.CLOSING) {
            return;
        }
        state = State.WORKING;
        cancelTimer();
        ctx.channel().config().setAutoRead(false);
    }

    /** The response is written; the client has {@code admin.keepalive_timeout} to take it. */
    void responseWritten() {
        if (state == State.CLOSING) {
            return;
        }
        state = State.WRITING;
        schedule(keepaliveTimeout, () -> timedOut(meters.responseTimeout, "response_timeout"));
    }

    /** The response is taken: idle until the next request, reading again. */
    void responseDone() {
        if (state == State.CLOSING || !ctx.channel().isActive()) {
            return;
        }
        state = State.IDLE;
        schedule(keepaliveTimeout, () -> timedOut(meters.keepaliveTimeout, "keepalive_timeout"));
        ctx.channel().config().setAutoRead(true);
    }

    /** The connection carries an event stream from now on: no timer; read so a client's close is seen at once. */
    void streaming() {
        state = State.STREAMING;
        cancelTimer();
        ctx.channel().config().setAutoRead(true);
    }

    /**
     * Closes after the last response, lingering (RFC 9112 §9.6): the write side is shut, and what
     * the client still sends is read and dropped for up to {@value #LINGER_MILLIS} ms, so a
     * close with unread input does not reset the connection before the client has read the answer.
     */
    void closeAfterResponse() {
        if (state != State.CLOSING) {
            linger();
        }
    }

    private void linger() {
        state = State.CLOSING;
        cancelTimer();
        if (ctx.channel() instanceof SocketChannel socket && socket.isActive()) {
            socket.config().setAutoRead(true);
            socket.shutdownOutput().addListener(f -> {
                if (!f.isSuccess()) {
                    socket.close();
                }
            });
            schedule(Duration.ofMillis(LINGER_MILLIS), socket::close);
        } else {
            ctx.close();
        }
    }

    /** Evicted by {@link AdminConnections} to admit a newer connection. */
    void evict() {
        admitted = false;
        LOG.atDebug().addKeyValue("event", "admin.connection_evicted").addKeyValue("client", client())
                .addKeyValue("state", state.name().toLowerCase(Locale.ROOT))
                .log("admin connection evicted at admin.max_connections");
        state = State.CLOSING;
        cancelTimer();
        ctx.close();
    }

    private void headTimedOut() {
        meters.headTimeout.increment();
        LOG.atDebug().addKeyValue("event", "admin.request_head_timeout").addKeyValue("client", client())
                .addKeyValue("received", state == State.READING_HEAD)
                .log("admin request not complete within admin.request_head_timeout");
        if (state == State.READING_HEAD) {
            answerAndClose(408, "Request Timeout", "request not complete within admin.request_head_timeout ("
                    + headTimeout.toMillis() + " ms)\n");
        } else {
            state = State.CLOSING;
            ctx.close();
        }
    }

    private void timedOut(Counter counter, String event) {
        counter.increment();
        LOG.atDebug().addKeyValue("event", "admin." + event).addKeyValue("client", client())
                .log("admin connection closed: " + event);
        state = State.CLOSING;
        ctx.close();
    }

    /**
     * Writes a whole response straight to the socket (this handler sits below the HTTP codec,
     * which may hold half a request), then closes lingeringly.
     */
    private void answerAndClose(int status, String phrase, String body) {
        byte[] content = body.getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + phrase + "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: " + content.length + "\r\nConnection: close\r\n\r\n";
        ByteBuf out = Unpooled.wrappedBuffer(head.getBytes(StandardCharsets.US_ASCII), content);
        state = State.CLOSING;
        cancelTimer();
        ctx.writeAndFlush(out).addListener((ChannelFutureListener) f -> {
            if (f.isSuccess()) {
                linger();
            } else {
                f.channel().close();
            }
        });
    }

    private void schedule(Duration delay, Runnable task) {
        cancelTimer();
        timer = ctx.executor().schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private String client() {
        return clientOf(ctx.channel());
    }

    /** {@code HOST:PORT} of the channel's peer, escaped for a log line. */
    static String clientOf(Channel channel) {
        if (channel.remoteAddress() instanceof InetSocketAddress a && a.getAddress() != null) {
            return a.getAddress().getHostAddress() + ":" + a.getPort();
        }
        return LogText.escape(String.valueOf(channel.remoteAddress()));
    }
}
