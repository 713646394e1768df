package dev.closewatch.config;

/**
 * The admin HTTP server: {@code /metrics}, {@code /healthz}, {@code /readyz},
 * {@code POST /admin/drain} and the JSON API under {@code /api/}.
 *
 * @param listen       {@code HOST:PORT}; loopback by default so metrics and the API are not
 *                     exposed by accident
 * @param token        bearer token (RFC 6750); when set, every endpoint but {@code /healthz}
 *                     requires {@code Authorization: Bearer <token>}; null (the default) leaves
 *                     the admin port open to whoever can reach it. Never printed: see
 *                     {@link #toString()}
 * @param recentCloses how many close events {@code /api/closes} keeps, newest first (default
 *                     {@value #DEFAULT_RECENT_CLOSES}); also the largest {@code limit} it accepts
 * @param maxStreams   how many {@code /api/closes/stream} subscribers may be connected at once
 *                     (default {@value #DEFAULT_MAX_STREAMS}; 0 turns the stream off). Each holds
 *                     one admin thread while connected
 */
public record AdminConfig(String listen, String token, Integer recentCloses, Integer maxStreams) {

    public static final String DEFAULT_LISTEN = "127.0.0.1:9090";
    public static final int DEFAULT_RECENT_CLOSES = 1000;
    public static final int DEFAULT_MAX_STREAMS = 16;

    public AdminConfig {
        listen = listen == null ? DEFAULT_LISTEN : listen;
        recentCloses = recentCloses == null ? DEFAULT_RECENT_CLOSES : recentCloses;
        maxStreams = maxStreams == null ? DEFAULT_MAX_STREAMS : maxStreams;
    }

    /** Listens on {@code listen}; every other setting takes its default. */
    public AdminConfig(String listen) {
        this(listen, null, null, null);
    }

    /** Like the record's, but the token is never shown: it would end up in logs. */
    @Override
    public String toString() {
        return "AdminConfig[listen=" + listen + ", token=" + (token == null ? "none" : "<hidden>")
                + ", recentCloses=" + recentCloses + ", maxStreams=" + maxStreams + "]";
    }
}
