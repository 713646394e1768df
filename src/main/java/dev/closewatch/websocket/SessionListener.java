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
}
