package dev.closewatch.config;

import java.time.Duration;

/**
 * Connection, handshake and frame limits.
 *
 * @param maxConnections       client connections open at once; beyond it new clients get 503
 *                             before any upstream connect (default 10000; 0 = unlimited)
 * @param handshakeTimeout     limit from accept to a complete request head; past it 408
 *                             (default 10s)
 * @param maxInitialLineLength longest request line in bytes; longer gets 414 (default 8192)
 * @param maxHeaderSize        largest request header block in bytes; larger gets 431 (default 16384)
 * @param maxFrameSize         largest frame payload in bytes relayed after the 101; a larger
 *                             frame ends the session with 1009 to its sender and 1001 to the
 *                             other side (default 0 = unlimited)
 */
public record LimitsConfig(Integer maxConnections, Duration handshakeTimeout, Integer maxInitialLineLength,
                           Integer maxHeaderSize, Long maxFrameSize) {

    public LimitsConfig {
        maxConnections = maxConnections == null ? 10_000 : maxConnections;
        handshakeTimeout = handshakeTimeout == null ? Duration.ofSeconds(10) : handshakeTimeout;
        maxInitialLineLength = maxInitialLineLength == null ? 8192 : maxInitialLineLength;
        maxHeaderSize = maxHeaderSize == null ? 16384 : maxHeaderSize;
        maxFrameSize = maxFrameSize == null ? 0L : maxFrameSize;
    }
}
