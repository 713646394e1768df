package dev.closewatch.observe;

import java.util.Locale;

/**
 * Why the proxy could not get an answer from an upstream; the {@code cause} label of
 * {@code closewatch_upstream_connect_failures_total}.
 */
public enum UpstreamFailure {
    /** The upstream actively refused the TCP connection (ECONNREFUSED). */
    REFUSED,
    /** The TCP connect did not complete within the connect timeout. */
    CONNECT_TIMEOUT,
    /** The upstream host name did not resolve. */
    UNRESOLVED,
    /** No route to the upstream host, or another connect error. */
    UNREACHABLE,
    /** The upstream accepted the request but sent no response head in time (answered 504). */
    RESPONSE_TIMEOUT,
    /** The upstream closed or reset the connection before a complete response head. */
    CLOSED_EARLY,
    /** The TLS handshake with a {@code wss://} upstream failed (e.g. its certificate did not verify). */
    TLS_HANDSHAKE,
    /**
     * The upstream's response could not be decoded as HTTP/1.1 (RFC 9112: a bad chunk, conflicting
     * framing headers, bare LF), or was a 101 that no WebSocket upgrade request asked for or without
     * {@code Sec-WebSocket-Accept}: answered 502 before any response byte, else the client connection is cut.
     */
    INVALID_RESPONSE;

    private final String label = name().toLowerCase(Locale.ROOT);

    /** The Prometheus label value. */
    public String label() {
        return label;
    }
}
