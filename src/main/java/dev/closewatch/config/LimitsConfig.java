package dev.closewatch.config;

import java.time.Duration;

/**
 * Connection, request and frame limits.
 *
 * @param maxConnections       client connections open at once; beyond it new clients get 503
 *                             before any upstream connect (default 10000; 0 = unlimited)
 * @param handshakeTimeout     limit for every request head: from accept, or from the first byte of a
 *                             later request on a keep-alive connection, to its complete head; past it
 *                             408 (default 10s)
 * @param maxInitialLineLength longest request line in bytes; longer gets 414 (default 8192)
 * @param maxHeaderSize        largest request header block in bytes; larger gets 431 (default 16384)
 * @param maxFrameSize         largest frame payload in bytes relayed after the 101; a larger
 *                             frame ends the session with 1009 to its sender and 1001 to the
 *                             other side (default 0 = unlimited)
 * @param keepaliveTimeout     how long a keep-alive connection may wait, after a complete response,
 *                             for the first byte of its next request; past it the connection is
 *                             closed without an answer (default 75s, like nginx; {@link Duration#ZERO}
 *                             = no limit)
 */
public record LimitsConfig(Integer maxConnections, Duration handshakeTimeout, Integer maxInitialLineLength,
                           Integer maxHeaderSize, Long maxFrameSize, Duration keepaliveTimeout) {

    public LimitsConfig {
        maxConnections = maxConnections == null ? 10_000 : maxConnections;
        handshakeTimeout = handshakeTimeout == null ? Duration.ofSeconds(10) : handshakeTimeout;
        maxInitialLineLength = maxInitialLineLength == null ? 8192 : maxInitialLineLength;
        maxHeaderSize = maxHeaderSize == null ? 16384 : maxHeaderSize;
        maxFrameSize = maxFrameSize == null ? 0L : maxFrameSize;
        keepaliveTimeout = keepaliveTimeout == null ? Duration.ofSeconds(75) : keepaliveTimeout;
    }

    /** The limits with the default {@code keepaliveTimeout}. */
    public LimitsConfig(Integer maxConnections, Duration handshakeTimeout, Integer maxInitialLineLength,
                        Integer maxHeaderSize, Long maxFrameSize) {
        this(maxConnections, handshakeTimeout, maxInitialLineLength, maxHeaderSize, maxFrameSize, null);
    }
}
