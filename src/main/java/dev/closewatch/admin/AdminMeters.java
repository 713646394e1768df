package dev.closewatch.admin;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The admin server's own meters, built once and held in fields:
 * <ul>
 *   <li>{@code closewatch_admin_connections_closed_total{reason}} — admin connections the server
 *       ended itself: {@code request_head_timeout} (408 or, with nothing received, a plain close),
 *       {@code keepalive_timeout}, {@code response_timeout} (the client did not take a response
 *       within {@code admin.keepalive_timeout}), {@code evicted} (the oldest connection without a
 *       request in progress, to admit a new one at {@code admin.max_connections}),
 *       {@code max_connections} (503: nothing to evict), {@code bad_request} (400, 414, 431);</li>
 *   <li>{@code closewatch_admin_requests_busy_total} — requests answered 503 because every admin
 *       worker slot was taken.</li>
 * </ul>
 * The {@code reason} label is bounded: one of the values above.
 */
final class AdminMeters {

    static final String CONNECTIONS_CLOSED = "closewatch.admin.connections.closed";
    static final String REQUESTS_BUSY = "closewatch.admin.requests.busy";

    final Counter headTimeout;
    final Counter keepaliveTimeout;
    final Counter responseTimeout;
    final Counter evicted;
    final Counter maxConnections;
    final Counter badRequest;
    final Counter busy;

    AdminMeters(MeterRegistry registry) {
        headTimeout = closed(registry, "request_head_timeout");
        keepaliveTimeout = closed(registry, "keepalive_timeout");
        responseTimeout = closed(registry, "response_timeout");
        evicted = closed(registry, "evicted");
        maxConnections = closed(registry, "max_connections");
        badRequest = closed(registry, "bad_request");
        busy = Counter.builder(REQUESTS_BUSY)
                .description("Admin requests answered 503 because every admin worker slot was taken")
                .register(registry);
    }

    private static Counter closed(MeterRegistry registry, String reason) {
        return Counter.builder(CONNECTIONS_CLOSED)
                .description("Admin connections the admin server closed itself, by reason")
                .tag("reason", reason)
                .register(registry);
    }
}
