package dev.closewatch.admin;

import dev.closewatch.websocket.CloseEvent;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One {@code /api/closes/stream} subscriber's connection: Server-Sent Events (HTML Living
 * Standard §9.2) written on the admin event loop. A comment line at once (the subscription is
 * live from then on), then {@code event: close} per close event, {@code event: dropped} when the
 * subscriber's queue overflowed, and a comment line after every
 * {@value AdminServer#STREAM_HEARTBEAT_SECONDS} s of silence.
 *
 * <p>The proxy's event loops only queue an event and {@linkplain #wakeup() wake} this writer;
 * while the client does not take what was written (the channel is not writable) events wait in
 * the bounded queue and then drop. The subscription ends, and its slot is free, the moment the
 * connection closes (its close future), whoever closed it.
 */
final class EventStreamWriter {

    private final Channel channel;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private CloseEventStream.Subscription subscription;
    private ScheduledFuture<?> heartbeat;
    private long droppedReported;
    private boolean wroteSinceHeartbeat;

    EventStreamWriter(Channel channel) {
        this.channel = channel;
    }

    /** Called on a proxy event loop after an event was queued (or dropped): schedules one {@link #drain()}. */
    void wakeup() {
        if (scheduled.compareAndSet(false, true)) {
            try {
                channel.eventLoop().execute(this::drain);
            } catch (RejectedExecutionException e) {
                // the admin server is closing; so is this stream
            }
        }
    }

    /** Sends the response head and the opening comment; on the admin event loop. */
    void start(CloseEventStream.Subscription subscription, HttpVersion requestVersion) {
        this.subscription = subscription;
        channel.closeFuture().addListener(f -> {
            subscription.close();
            if (heartbeat != null) {
                heartbeat.cancel(false);
            }
        });
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        head.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
        if (requestVersion.equals(HttpVersion.HTTP_1_0)) {
            // no chunked coding in HTTP/1.0: the stream ends with the connection (RFC 9112 §6.3)
            head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else {
            HttpUtil.setTransferEncodingChunked(head, true);
        }
        channel.write(head);
        write(": closewatch close events\n\n");
        heartbeat = channel.eventLoop().scheduleAtFixedRate(this::heartbeat, AdminServer.STREAM_HEARTBEAT_SECONDS,
                AdminServer.STREAM_HEARTBEAT_SECONDS, TimeUnit.SECONDS);
        drain();
    }

    /** Writes what is queued, if the client is taking what was written; on the admin event loop. */
    void drain() {
        scheduled.set(false);
        if (subscription == null || !channel.isActive() || !channel.isWritable()) {
            return;
        }
        List<CloseEvent> events = subscription.take();
        long dropped = subscription.dropped();
        StringBuilder sb = new StringBuilder();
        if (dropped != droppedReported) {
            sb.append("event: dropped\ndata: ")
                    .append(AdminJson.write(new AdminJson.Dropped(dropped - droppedReported, dropped)))
                    .append("\n\n");
            droppedReported = dropped;
        }
        for (CloseEvent e : events) {
            sb.append("event: close\ndata: ").append(AdminJson.write(AdminJson.CloseView.of(e))).append("\n\n");
        }
        if (!sb.isEmpty()) {
            write(sb.toString());
        }
    }

    private void heartbeat() {
        // a subscriber that does not read needs no heartbeat: its unread bytes keep growing otherwise
        if (!wroteSinceHeartbeat && channel.isActive() && channel.isWritable()) {
            write(":\n\n");
        }
        wroteSinceHeartbeat = false;
    }

    private void write(String text) {
        wroteSinceHeartbeat = true;
        channel.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8)));
    }
}
