package dev.closewatch.config;

import java.time.Duration;

/**
 * The admin HTTP server: {@code /metrics}, {@code /healthz}, {@code /readyz},
 * {@code POST /admin/drain} and the JSON API under {@code /api/}.
 *
 * @param listen             {@code HOST:PORT}; loopback by default so metrics and the API are not
 *                           exposed by accident
 * @param token              bearer token (RFC 6750); when set, every endpoint but {@code /healthz}
 *                           requires {@code Authorization: Bearer <token>}; null (the default)
 *                           leaves the admin port open to whoever can reach it. Never printed: see
 *                           {@link #toString()}
 * @param recentCloses       how many close events {@code /api/closes} keeps, newest first (default
 *                           {@value #DEFAULT_RECENT_CLOSES}); also the largest {@code limit} it accepts
 * @param maxStreams         how many {@code /api/closes/stream} subscribers may be connected at once
 *                           (default {@value #DEFAULT_MAX_STREAMS}; 0 turns the stream off). Each holds
 *                           one admin connection while connected
 * @param maxConnections     how many admin connections may be open at once (default
 *                           {@value #DEFAULT_MAX_CONNECTIONS}); one more evicts the oldest connection
 *                           still waiting for a request head, or gets 503 when none is
 * @param requestHeadTimeout how long a connection may take from its first byte (from the accept for
 *                           its first request) to a complete request (default 5 s); then 408
 * @param keepaliveTimeout   how long a connection may stay idle between a response and the next
 *                           request's first byte (default 60 s); then it is closed
 */
public record AdminConfig(String listen, String token, Integer recentCloses, Integer maxStreams,
                          Integer maxConnections, Duration requestHeadTimeout, Duration keepaliveTimeout) {

    public static final String DEFAULT_LISTEN = "127.0.0.1:8081";
    public static final int DEFAULT_RECENT_CLOSES = 1000;
    public static final int DEFAULT_MAX_STREAMS = 16;
    public static final int DEFAULT_MAX_CONNECTIONS = 64;
    public static final Duration DEFAULT_REQUEST_HEAD_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_KEEPALIVE_TIMEOUT = Duration.ofSeconds(60);

    public AdminConfig {
        listen = listen == null ? DEFAULT_LISTEN : listen;
        recentCloses = recentCloses == null ? DEFAULT_RECENT_CLOSES : recentCloses;
        maxStreams = maxStreams == null ? DEFAULT_MAX_STREAMS : maxStreams;
        maxConnections = maxConnections == null ? DEFAULT_MAX_CONNECTIONS : maxConnections;
        requestHeadTimeout = requestHeadTimeout == null ? DEFAULT_REQUEST_HEAD_TIMEOUT : requestHeadTimeout;
        keepaliveTimeout = keepaliveTimeout == null ? DEFAULT_KEEPALIVE_TIMEOUT : keepaliveTimeout;
    }

    /** The first four settings; the connection bound and the timeouts take their defaults. */
    public AdminConfig(String listen, String token, Integer recentCloses, Integer maxStreams) {
        this(listen, token, recentCloses, maxStreams, null, null, null);
    }

    /** Listens on {@code listen}; every other setting takes its default. */
    public AdminConfig(String listen) {
        this(listen, null, null, null);
    }

    /** A copy listening on {@code listen}, every other setting kept. */
    public AdminConfig withListen(String listen) {
        return new AdminConfig(listen, token, recentCloses, maxStreams, maxConnections, requestHeadTimeout,
                keepaliveTimeout);
    }

    /** Like the record's, but the token is never shown: it would end up in logs. */
    @Override
    public String toString() {
        return "AdminConfig[listen=" + listen + ", token=" + (token == null ? "none" : "<hidden>")
                + ", recentCloses=" + recentCloses + ", maxStreams=" + maxStreams
                + ", maxConnections=" + maxConnections + ", requestHeadTimeout=" + requestHeadTimeout
                + ", keepaliveTimeout=" + keepaliveTimeout + "]";
    }
}
