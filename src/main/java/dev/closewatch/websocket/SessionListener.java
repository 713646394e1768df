package dev.closewatch.websocket;

/**
 * Receives what a {@link WebSocketSession} decides; implemented by the observe package
 * (meters, close log, recent-events ring). Called on the session's event loop.
 */
public interface SessionListener {

    /** The upstream answered 101 Switching Protocols: the session is open. */
    void onOpen(WebSocketSession session);

    /** A frame broke an RFC 6455 rule. */
    void onViolation(WebSocketSession session, Direction direction, Violation violation);

    /** The session ended; called exactly once per session. */
    void onClose(CloseEvent event);

    /**
     * The session ended; called exactly once per session, with the session (for its
     * {@link WebSocketSession#facts()}). By default {@link #onClose(CloseEvent)}.
     */
    default void onClose(WebSocketSession session, CloseEvent event) {
        onClose(event);
    }

    /**
     * A would-be session failed before it opened — a TLS handshake failed on either leg (status
     * code 1015): counted and logged like a session end, but no session was ever active.
     */
    default void onOpenFailed(CloseEvent event) {
    }
}
