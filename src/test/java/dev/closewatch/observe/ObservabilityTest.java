package dev.closewatch.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import dev.closewatch.websocket.SessionListener;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/** What {@link Observability}'s session listener does with an end that never was a session. */
class ObservabilityTest {

    private static final CloseCatalog CATALOG = CloseCatalog.loadDefault();

    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private final Logger closeLog = (Logger) LoggerFactory.getLogger(CloseLogger.LOGGER);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Observability observability = new Observability(registry, new CloseLogger(Level.DEBUG));

    @BeforeEach
    void captureCloseLog() {
        lines.start();
        closeLog.addAppender(lines);
    }

    @AfterEach
    void release() {
        closeLog.detachAppender(lines);
    }

    @Test
    void shouldLogAndPublishATlsHandshakeFailureBeforeOpen() {
        // Given a consumer (as the admin API's ring and stream are)
        List<CloseEvent> seen = new ArrayList<>();
        observability.addCloseConsumer(seen::add);
        SessionListener listener = observability.sessionListener("r");
        CloseEvent failed = new CloseEvent("tls00001", "r", "127.0.0.1:50000", "-", CloseCatalog.TLS_HANDSHAKE,
                CATALOG.lookup(CloseCatalog.TLS_HANDSHAKE), "", Initiator.CLIENT, false, false, Cause.TLS_HANDSHAKE,
                Instant.EPOCH, Duration.ZERO, null, 0, 0);

        // When the TLS handshake of a would-be session fails
        listener.onOpenFailed(failed);

        // Then it is logged and published like a session end, and no session was ever open
        assertEquals(List.of(failed), seen);
        assertEquals(1, lines.list.size());
        assertEquals(ch.qos.logback.classic.Level.WARN, lines.list.get(0).getLevel());
        assertEquals("WebSocket session tls00001 ended: 1015 TLS Handshake", lines.list.get(0).getFormattedMessage());
        assertEquals(List.of(), observability.openSessions().snapshot());
        assertEquals(0, registry.get("closewatch.sessions.active").gauge().value());
    }
}
