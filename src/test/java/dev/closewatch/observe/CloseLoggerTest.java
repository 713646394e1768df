package dev.closewatch.observe;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import dev.closewatch.websocket.SessionListener;
import dev.closewatch.websocket.WebSocketSession;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The close log under a storm: lines rate-limited per category, "suppressed N" summaries that add
 * up exactly, metrics never sampled.
 */
class CloseLoggerTest {

    private static final CloseCatalog CATALOG = CloseCatalog.loadDefault();
    private static final int STORM = 10_000;

    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private final Logger closeLog = (Logger) LoggerFactory.getLogger(CloseLogger.LOGGER);
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private PrometheusMeterRegistry registry;

    @BeforeEach
    void captureCloseLog() {
        lines.start();
        closeLog.addAppender(lines);
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    @AfterEach
    void release() {
        closeLog.detachAppender(lines);
        registry.close();
    }

    @Test
    void shouldWriteOnlyTheBurstOfAnInstantStormAndSummarizeTheRest() {
        // Given 20 lines/s, burst 100, on a clock that does not move
        CloseLogger logger = new CloseLogger(Level.DEBUG, new CloseLogRateLimiter(20, 100, nanos::get));
        SessionListener listener = new Observability(registry, logger).sessionListener("r");

        // When 10,000 sessions end in 1006 and the summaries are written
        storm(listener, STORM, nanos::get, () -> { });
        logger.flushSuppressed();

        // Then exactly 100 close lines, one summary of 9,900, and all 10,000 counted
        assertEquals(100, closeLines().size());
        assertEquals(List.of(Map.of("event", "websocket.close.suppressed", "category", "abnormal",
                "suppressed", 9_900L, "interval_s", 1L)), summaries());
        assertEquals(Level.WARN.toString(), summaryEvents().get(0).getLevel().toString());
        assertEquals("9900 close log lines of category abnormal suppressed in the last 1 s (log.rate_limit)",
                summaryEvents().get(0).getFormattedMessage());
        assertEquals(STORM, registry.get("closewatch.closes").tag("code", "1006").counter().count());
        assertEquals(0, registry.get("closewatch.sessions.active").gauge().value());
    }

    @Test
    void shouldWriteTheBurstPlusTheRateOverAStormThatLasts() {
        // Given 20 lines/s, burst 100, and one session end per millisecond for 10 s
        CloseLogger logger = new CloseLogger(Level.DEBUG, new CloseLogRateLimiter(20, 100, nanos::get));
        SessionListener listener = new Observability(registry, logger).sessionListener("r");
        long start = nanos.get();

        // When
        storm(listener, STORM, nanos::get, () -> nanos.addAndGet(1_000_000L));
        long elapsed = nanos.get() - start - 1_000_000L; // the last event came 9.999 s after the first
        logger.flushSuppressed(); // 10 s after the limiter started

        // Then burst + floor(rate × elapsed) lines: 100 + floor(20 × 9.999) = 299, and the summary holds the rest
        long bound = 100 + 20 * elapsed / 1_000_000_000L;
        assertEquals(299, bound);
        assertEquals(bound, closeLines().size());
        assertEquals(List.of(Map.of("event", "websocket.close.suppressed", "category", "abnormal",
                "suppressed", (long) STORM - 299, "interval_s", 10L)), summaries());
        assertEquals(STORM, registry.get("closewatch.closes").tag("code", "1006").counter().count());
    }

    @Test
    void shouldSummarizeOnItsOwnAfterARealStormStops() {
        // Given the production wiring: real clock, summaries every 200 ms on the logger's thread
        long start = System.nanoTime();
        CloseLogger logger = CloseLogger.start(Level.DEBUG, 20, 100, Duration.ofMillis(200));
        try {
            SessionListener listener = new Observability(registry, logger).sessionListener("r");

            // When 10,000 sessions end in 1006 as fast as they can, then nothing more happens
            storm(listener, STORM, System::nanoTime, () -> { });
            long elapsed = System.nanoTime() - start;

            // Then the summaries arrive without another event or flush, and add up exactly
            int logged = closeLines().size();
            await().atMost(Duration.ofSeconds(10)).until(() -> logged + suppressedTotal() == STORM);
            assertTrue(logged >= 100, "at least the burst: " + logged);
            long bound = 100 + 20 * elapsed / 1_000_000_000L;
            assertTrue(logged <= bound, logged + " lines > burst + rate × elapsed = " + bound);
            assertEquals(STORM, registry.get("closewatch.closes").tag("code", "1006").counter().count());
            assertEquals(STORM, registry.get("closewatch.abnormal.closures").tag("initiator", "client")
                    .counter().count());
        } finally {
            logger.close();
        }
        assertEquals(STORM, closeLines().size() + suppressedTotal(), "close() writes nothing new: all was summarized");
    }

    @Test
    void shouldWriteTheLastSummaryOnClose() {
        // Given a rate-limited logger whose summary interval never comes
        CloseLogger logger = CloseLogger.start(Level.DEBUG, 1, 1, Duration.ofHours(1));
        SessionListener listener = new Observability(registry, logger).sessionListener("r");
        storm(listener, 5, System::nanoTime, () -> { });

        // When it closes
        logger.close();
        logger.close();

        // Then the 4 suppressed lines are reported, once
        assertEquals(1, closeLines().size());
        assertEquals(4, suppressedTotal());
        assertEquals(1, summaries().size());
    }

    @Test
    void shouldNeitherWriteNorCountLinesWhoseLevelIsOff() {
        // Given normal ends logged at TRACE, which the test configuration does not enable
        CloseLogger logger = new CloseLogger(Level.TRACE, new CloseLogRateLimiter(1, 1, nanos::get));

        // When 10 normal ends are logged
        for (int i = 0; i < 10; i++) {
            logger.log(event("n-" + i, 1000, Initiator.CLIENT));
        }
        logger.flushSuppressed();

        // Then nothing is written or summarized
        assertEquals(List.of(), lines.list);
    }

    @Test
    void shouldWriteEveryLineWithoutALimit() {
        // Given
        CloseLogger logger = new CloseLogger(Level.DEBUG);
        SessionListener listener = new Observability(registry, logger).sessionListener("r");

        // When
        storm(listener, 1000, System::nanoTime, () -> { });
        logger.flushSuppressed();

        // Then
        assertEquals(1000, closeLines().size());
        assertEquals(List.of(), summaries());
    }

    @Test
    void shouldWriteTheContractsKeysInOrder() {
        // Given
        CloseLogger logger = new CloseLogger(Level.DEBUG);

        // When
        logger.log(event("s-1", 1006, Initiator.UPSTREAM));

        // Then
        ILoggingEvent line = lines.list.get(0);
        assertEquals(List.of("event", "session", "route", "client", "upstream", "code", "name", "category", "initiator",
                "clean", "cause", "answer_code", "reason", "duration_ms", "client_idle_ms", "upstream_idle_ms", "idle_ms",
                "bytes_c2u", "bytes_u2c", "remedy"),
                line.getKeyValuePairs().stream().map(p -> p.key).toList());
        assertEquals("WebSocket session s-1 ended: 1006 Abnormal Closure", line.getFormattedMessage());
        assertEquals("", ProxyHarness.kv(line, "answer_code"), "no answering Close: empty");
    }

    @Test
    void shouldWriteTheAnsweringClosesCode() {
        // Given an invalid first Close (1005 on the wire) answered with 1002, and one answered by a 1-byte Close
        CloseLogger logger = new CloseLogger(Level.DEBUG);
        CloseEvent answered = new CloseEvent("s-1", "r", "127.0.0.1:50000", "127.0.0.1:8080", 1005,
                CATALOG.classifyWire(1005), "", Initiator.CLIENT, true, true, dev.closewatch.websocket.Cause.CLOSE_HANDSHAKE,
                java.time.Instant.EPOCH, Duration.ZERO, Duration.ZERO, 8, 4, 1002);
        CloseEvent malformed = new CloseEvent("s-2", "r", "127.0.0.1:50000", "127.0.0.1:8080", 1000,
                CATALOG.lookup(1000), "", Initiator.CLIENT, true, true, dev.closewatch.websocket.Cause.CLOSE_HANDSHAKE,
                java.time.Instant.EPOCH, Duration.ZERO, Duration.ZERO, 8, 3, CloseCatalog.MALFORMED);

        // When
        logger.log(answered);
        logger.log(malformed);

        // Then answer_code carries the answer's code, "invalid" for a 1-byte body
        assertEquals("1002", ProxyHarness.kv(lines.list.get(0), "answer_code"));
        assertEquals("invalid", ProxyHarness.kv(lines.list.get(1), "answer_code"));
    }

    /** {@code n} sessions opened and ended by a client TCP drop (1006), {@code tick} between them. */
    private static void storm(SessionListener listener, int n, LongSupplier clock, Runnable tick) {
        for (int i = 0; i < n; i++) {
            WebSocketSession s = new WebSocketSession("s-" + i, "r", "127.0.0.1:50000", "127.0.0.1:8080", CATALOG,
                    listener, clock);
            s.transportClosed(Initiator.CLIENT);
            s.transportClosed(Initiator.UPSTREAM);
            tick.run();
        }
    }

    private static CloseEvent event(String session, int code, Initiator initiator) {
        return new CloseEvent(session, "r", "127.0.0.1:50000", "127.0.0.1:8080", code, CATALOG.lookup(code), "",
                initiator, false, false, dev.closewatch.websocket.Cause.FIN, java.time.Instant.EPOCH, Duration.ZERO,
                null, 0, 0);
    }

    private List<ILoggingEvent> closeLines() {
        return new ArrayList<>(lines.list).stream().filter(l -> "websocket.close".equals(kv(l, "event"))).toList();
    }

    private List<ILoggingEvent> summaryEvents() {
        return new ArrayList<>(lines.list).stream()
                .filter(l -> "websocket.close.suppressed".equals(kv(l, "event"))).toList();
    }

    private List<Map<String, Object>> summaries() {
        return summaryEvents().stream().map(l -> {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            l.getKeyValuePairs().forEach(p -> m.put(p.key, p.value));
            return m;
        }).toList();
    }

    private long suppressedTotal() {
        return summaryEvents().stream().mapToLong(l -> (Long) kv(l, "suppressed")).sum();
    }

    private static Object kv(ILoggingEvent line, String key) {
        if (line.getKeyValuePairs() == null) {
            return null;
        }
        return line.getKeyValuePairs().stream().filter(p -> p.key.equals(key)).map(p -> p.value).findFirst().orElse(null);
    }
}
