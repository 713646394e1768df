package dev.closewatch.observe;

import static java.util.Objects.requireNonNull;

import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.WebSocketSession;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The WebSocket sessions open now (after the 101, before their {@link CloseEvent}), for the admin
 * API's {@code GET /api/sessions}. Fed by {@link Observability}'s session listeners on the event
 * loops; read from the admin thread.
 *
 * <p>Session ids are the client channel's short id (8 hex digits), which two open sessions may
 * share; sessions are therefore kept in a small list per id and removed once their own
 * {@link WebSocketSession#ended()} is true.
 *
 * <p>What a reader sees of a session is its immutable identity (id, route, addresses, open time)
 * and its byte counters, which the event loop updates without synchronization: the counts may be
 * a few reads behind.
 */
public final class OpenSessions {

    private final ConcurrentHashMap<String, List<WebSocketSession>> byId = new ConcurrentHashMap<>();

    /** Records {@code session} as open. */
    void opened(WebSocketSession session) {
        requireNonNull(session, "session");
        byId.merge(session.id(), List.of(session), (a, b) -> {
            List<WebSocketSession> both = new ArrayList<>(a.size() + b.size());
            both.addAll(a);
            both.addAll(b);
            return List.copyOf(both);
        });
    }

    /** Forgets the session that {@code event} ended, if it was recorded. */
    void closed(CloseEvent event) {
        byId.computeIfPresent(event.sessionId(), (id, sessions) -> {
            if (sessions.size() == 1) {
                return sessions.get(0).ended() ? null : sessions;
            }
            List<WebSocketSession> open = sessions.stream().filter(s -> !s.ended()).toList();
            return open.isEmpty() ? null : open.size() == sessions.size() ? sessions : open;
        });
    }

    /** The open sessions, in no particular order; a new list. */
    public List<WebSocketSession> snapshot() {
        List<WebSocketSession> out = new ArrayList<>(byId.size());
        for (List<WebSocketSession> sessions : byId.values()) {
            out.addAll(sessions);
        }
        return out;
    }
}
