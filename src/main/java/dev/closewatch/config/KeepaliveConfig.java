package dev.closewatch.config;

import java.time.Duration;

/**
 * Dead-peer detection.
 *
 * @param pingInterval  how often the proxy sends a Ping frame to each client, injected at a frame
 *                      boundary (RFC 6455 §5.5.2); the client's Pong travels on to the upstream,
 *                      which may ignore an unsolicited Pong (§5.5.3). 0 = off (default)
 * @param pingTimeout   a client that sends nothing for this long is cut and recorded as 1006
 *                      with cause {@code ping_timeout}; 0 = off (default). Needs pings on.
 * @param idleTimeout   no frames either way for this long ends the session with
 *                      {@code idleCloseCode} (initiator {@code proxy}, cause
 *                      {@code idle_timeout}); 0 = off (default)
 * @param idleCloseCode the status code sent to both sides on idle timeout (default 1001)
 * @param tcpKeepalive  SO_KEEPALIVE on both legs (default false)
 */
public record KeepaliveConfig(Duration pingInterval, Duration pingTimeout, Duration idleTimeout,
                              Integer idleCloseCode, Boolean tcpKeepalive) {

    public KeepaliveConfig {
        pingInterval = pingInterval == null ? Duration.ZERO : pingInterval;
        pingTimeout = pingTimeout == null ? Duration.ZERO : pingTimeout;
        idleTimeout = idleTimeout == null ? Duration.ZERO : idleTimeout;
        idleCloseCode = idleCloseCode == null ? 1001 : idleCloseCode;
        tcpKeepalive = tcpKeepalive != null && tcpKeepalive;
    }

    /** Whether any per-session timer is needed. */
    public boolean enabled() {
        return !pingInterval.isZero() || !idleTimeout.isZero();
    }
}
