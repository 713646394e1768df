package dev.closewatch.websocket;

import java.util.Locale;

/** How a session's connections ended; the {@code cause} field of the close log line. */
public enum Cause {
    /** Both endpoints exchanged Close frames (RFC 6455 §7.1.2): the clean case. */
    CLOSE_HANDSHAKE,
    /** A TCP connection ended with a FIN (orderly shutdown) before the close handshake completed. */
    FIN,
    /** A TCP connection was reset or failed with an I/O error. */
    RESET,
    /** No frames either way for the configured idle timeout. */
    IDLE_TIMEOUT,
    /** The client answered no Ping within the configured timeout. */
    PING_TIMEOUT,
    /** A TLS handshake failed (status code 1015). */
    TLS_HANDSHAKE,
    /** The proxy was draining for shutdown. */
    DRAIN,
    /** A frame's payload exceeded {@code limits.max_frame_size}: 1009 to its sender, 1001 to the other side. */
    FRAME_TOO_BIG;

    private final String label = name().toLowerCase(Locale.ROOT);

    /** The log value, e.g. {@code close_handshake}. */
    public String label() {
        return label;
    }
}
