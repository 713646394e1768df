package dev.closewatch.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.websocket.Initiator;
import dev.closewatch.websocket.SessionListener;
import dev.closewatch.websocket.WebSocketSession;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/** The open-sessions table behind {@code /api/sessions}, fed through {@link Observability}. */
class OpenSessionsTest {

    private static final CloseCatalog CATALOG = CloseCatalog.loadDefault();

    private final Observability observability = new Observability(new SimpleMeterRegistry(), new CloseLogger(Level.DEBUG));
    private final SessionListener listener = observability.sessionListener("r");

    @Test
    void shouldListSessionsFromOpenUntilTheirCloseEvent() {
        // Given two sessions opened
        WebSocketSession a = open("a");
        WebSocketSession b = open("b");
        assertEquals(List.of(a, b), sorted(observability.openSessions().snapshot()));

        // When one ends, after one TCP side only, then both
        a.transportClosed(Initiator.CLIENT);
        assertEquals(List.of(a, b), sorted(observability.openSessions().snapshot()));
        a.transportClosed(Initiator.UPSTREAM);

        // Then only the other is left
        assertEquals(List.of(b), observability.openSessions().snapshot());
    }

    @Test
    void shouldKeepTwoOpenSessionsThatShareAnId() {
        // Given two sessions with the same short id
        WebSocketSession first = open("dup");
        WebSocketSession second = open("dup");
        assertEquals(2, observability.openSessions().snapshot().size());

        // When the second ends
        second.transportClosed(Initiator.CLIENT);
        second.transportClosed(Initiator.UPSTREAM);

        // Then the first is still listed, and goes when it ends
        assertEquals(1, observability.openSessions().snapshot().size());
        assertSame(first, observability.openSessions().snapshot().get(0));
        first.transportClosed(Initiator.UPSTREAM);
        first.transportClosed(Initiator.CLIENT);
        assertEquals(List.of(), observability.openSessions().snapshot());
    }

    @Test
    void shouldIgnoreCloseEventsOfUnknownSessions() {
        // Given
        WebSocketSession a = open("a");

        // When an event for a session never opened (or a synthetic one with a live id) arrives
        listener.onClose(RecentClosesTest.event("zzz", 1000, Initiator.CLIENT));
        listener.onClose(RecentClosesTest.event("a", 1000, Initiator.CLIENT));

        // Then nothing changes: "a" has not ended
        assertEquals(List.of(a), observability.openSessions().snapshot());
    }

    private WebSocketSession open(String id) {
        return new WebSocketSession(id, "r", "127.0.0.1:5000" + id.length(), "127.0.0.1:8080", CATALOG, listener,
                System::nanoTime);
    }

    private static List<WebSocketSession> sorted(List<WebSocketSession> sessions) {
        return sessions.stream().sorted(Comparator.comparing(WebSocketSession::id)).toList();
    }
}
