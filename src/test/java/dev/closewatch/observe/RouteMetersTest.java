package dev.closewatch.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.catalog.CloseCode;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Direction;
import dev.closewatch.websocket.Initiator;
import dev.closewatch.websocket.SessionListener;
import dev.closewatch.websocket.WebSocketSession;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/**
 * {@link RouteMeters} through {@link Observability}, read back as Prometheus text: the names,
 * labels and values of DESIGN.md's metrics contract, which the Grafana panels and alert rules
 * read.
 */
class RouteMetersTest {

    private static final CloseCatalog CATALOG = CloseCatalog.loadDefault();
    private static final String UPSTREAM = "ws://chat:9000";

    private PrometheusMeterRegistry registry;
    private Observability observability;
    private SessionListener listener;
    private final AtomicLong nanos = new AtomicLong();

    @BeforeEach
    void createRegistry() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        observability = new Observability(registry, new CloseLogger(Level.DEBUG));
        listener = observability.sessionListener("r");
    }

    @AfterEach
    void closeRegistry() {
        registry.close();
    }

    @Test
    void shouldExposeExactlyTheContractsMetricFamilies() {
        // Given a route that saw one session of every kind of event
        WebSocketSession session = newSession();
        observe(session, Direction.CLIENT_TO_UPSTREAM, new byte[] {(byte) 0x81, 0x00});
        session.observer(Direction.CLIENT_TO_UPSTREAM).drainCounts(observability.route("r"));
        session.transportClosed(Initiator.CLIENT);
        session.transportClosed(Initiator.UPSTREAM);
        observability.route("r").upgrade(101);
        observability.route("r").upstream(UPSTREAM).failure(UpstreamFailure.REFUSED);

        // When the registry is scraped
        String scrape = registry.scrape();

        // Then the closewatch families are exactly DESIGN.md's (plus the _max gauges
        // Micrometer adds to every timer, and the 1006 split by initiator and cause that the
        // dashboard's abnormal-closure panels read)
        assertEquals(new TreeSet<>(Set.of(
                "closewatch_abnormal_closures_total",
                "closewatch_bytes_discarded_total",
                "closewatch_sessions_active",
                "closewatch_sessions_opened_total",
                "closewatch_closes_total",
                "closewatch_session_duration_seconds",
                "closewatch_session_duration_seconds_max",
                "closewatch_close_handshake_duration_seconds",
                "closewatch_close_handshake_duration_seconds_max",
                "closewatch_close_handshakes_incomplete_total",
                "closewatch_upgrades_total",
                "closewatch_upstream_connect_failures_total",
                "closewatch_upstream_healthy_addresses",
                "closewatch_frames_total",
                "closewatch_bytes_total",
                "closewatch_protocol_violations_total")), families(scrape));
    }

    @Test
    void shouldCountAnAbnormalClosureByCodeCategoryAndInitiator() {
        // Given a session that opened at t=0 and whose client TCP dropped at t=1.5 s
        WebSocketSession session = newSession();
        String open = registry.scrape();
        assertEquals("1.0", sample(open, "closewatch_sessions_active{route=\"r\"}"));
        assertEquals("1.0", sample(open, "closewatch_sessions_opened_total{route=\"r\",upstream=\"ws://chat:9000\"}"));
        nanos.set(1_500_000_000L);

        // When both TCP connections close with no Close frame
        session.transportClosed(Initiator.CLIENT);
        session.transportClosed(Initiator.UPSTREAM);

        // Then the close is counted as 1006/abnormal/client and the duration recorded
        String scrape = registry.scrape();
        assertEquals("1.0", sample(scrape,
                "closewatch_closes_total{category=\"abnormal\",code=\"1006\",initiator=\"client\",route=\"r\"}"));
        assertEquals("0.0", sample(scrape, "closewatch_sessions_active{route=\"r\"}"));
        assertEquals("1.0", sample(scrape, "closewatch_sessions_opened_total{route=\"r\",upstream=\"ws://chat:9000\"}"));
        assertEquals("0", sample(scrape,
                "closewatch_session_duration_seconds_bucket{category=\"abnormal\",route=\"r\",le=\"1.0\"}"));
        assertEquals("1", sample(scrape,
                "closewatch_session_duration_seconds_bucket{category=\"abnormal\",route=\"r\",le=\"5.0\"}"));
        assertEquals("1", sample(scrape,
                "closewatch_session_duration_seconds_bucket{category=\"abnormal\",route=\"r\",le=\"+Inf\"}"));
        assertEquals("1", sample(scrape, "closewatch_session_duration_seconds_count{category=\"abnormal\",route=\"r\"}"));
        assertEquals("1.5", sample(scrape, "closewatch_session_duration_seconds_sum{category=\"abnormal\",route=\"r\"}"));
        assertEquals("0", sample(scrape, "closewatch_close_handshake_duration_seconds_count{route=\"r\"}"));
        assertEquals("0.0", sample(scrape,
                "closewatch_close_handshakes_incomplete_total{initiator=\"client\",route=\"r\"}"));
    }

    @Test
    void shouldRecordTheCloseHandshakeDuration() {
        // Given a close event whose handshake took 3 ms
        CloseEvent event = event(1000, Initiator.UPSTREAM, true, true, Duration.ofSeconds(20), Duration.ofMillis(3));

        // When it reaches the route's listener
        listener.onClose(event);

        // Then the handshake histogram has it in the 5 ms bucket, the close is counted
        String scrape = registry.scrape();
        assertEquals("1.0", sample(scrape,
                "closewatch_closes_total{category=\"normal\",code=\"1000\",initiator=\"upstream\",route=\"r\"}"));
        assertEquals("0", sample(scrape, "closewatch_close_handshake_duration_seconds_bucket{route=\"r\",le=\"0.001\"}"));
        assertEquals("1", sample(scrape, "closewatch_close_handshake_duration_seconds_bucket{route=\"r\",le=\"0.005\"}"));
        assertEquals("1", sample(scrape, "closewatch_close_handshake_duration_seconds_count{route=\"r\"}"));
        assertEquals("0.003", sample(scrape, "closewatch_close_handshake_duration_seconds_sum{route=\"r\"}"));
        assertEquals("0", sample(scrape,
                "closewatch_session_duration_seconds_bucket{category=\"normal\",route=\"r\",le=\"15.0\"}"));
        assertEquals("1", sample(scrape,
                "closewatch_session_duration_seconds_bucket{category=\"normal\",route=\"r\",le=\"30.0\"}"));
        assertEquals("0.0", sample(scrape,
                "closewatch_close_handshakes_incomplete_total{initiator=\"upstream\",route=\"r\"}"));
    }

    @Test
    void shouldCountAnIncompleteCloseHandshakeByInitiator() {
        // Given two close events whose Close frame was never answered, and one clean one
        listener.onClose(event(1008, Initiator.CLIENT, false, true, Duration.ofSeconds(1), null));
        listener.onClose(event(1008, Initiator.CLIENT, false, true, Duration.ofSeconds(1), null));
        listener.onClose(event(1008, Initiator.CLIENT, true, true, Duration.ofSeconds(1), Duration.ofMillis(1)));

        // When the registry is scraped
        String scrape = registry.scrape();

        // Then exactly the unanswered ones count as incomplete, all three as closes
        assertEquals("2.0", sample(scrape,
                "closewatch_close_handshakes_incomplete_total{initiator=\"client\",route=\"r\"}"));
        assertEquals("0.0", sample(scrape,
                "closewatch_close_handshakes_incomplete_total{initiator=\"upstream\",route=\"r\"}"));
        assertEquals("0.0", sample(scrape,
                "closewatch_close_handshakes_incomplete_total{initiator=\"proxy\",route=\"r\"}"));
        assertEquals("3.0", sample(scrape,
                "closewatch_closes_total{category=\"policy_violation\",code=\"1008\",initiator=\"client\",route=\"r\"}"));
    }

    @Test
    void shouldBucketUncataloguedCodesWithoutAPerCodeLabel() {
        // Given closes with private codes 4000, 4321 and 4999, a registered 3456, and an
        // invalid 2500 and 1005 read from the wire
        listener.onClose(event(4000, Initiator.UPSTREAM, true, true, Duration.ofSeconds(1), Duration.ZERO));
        listener.onClose(event(4321, Initiator.UPSTREAM, true, true, Duration.ofSeconds(1), Duration.ZERO));
        listener.onClose(event(4999, Initiator.UPSTREAM, true, true, Duration.ofSeconds(1), Duration.ZERO));
        listener.onClose(event(3456, Initiator.CLIENT, true, true, Duration.ofSeconds(1), Duration.ZERO));
        listener.onClose(eventWithClassification(2500, CATALOG.classifyWire(2500)));
        listener.onClose(eventWithClassification(1005, CATALOG.classifyWire(1005)));

        // When the registry is scraped
        String scrape = registry.scrape();

        // Then they share the bounded labels 4xxx, 3xxx and invalid
        assertEquals("3.0", sample(scrape,
                "closewatch_closes_total{category=\"private\",code=\"4xxx\",initiator=\"upstream\",route=\"r\"}"));
        assertEquals("1.0", sample(scrape,
                "closewatch_closes_total{category=\"registered\",code=\"3xxx\",initiator=\"client\",route=\"r\"}"));
        assertEquals("2.0", sample(scrape,
                "closewatch_closes_total{category=\"invalid\",code=\"invalid\",initiator=\"client\",route=\"r\"}"));
        for (String code : List.of("4000", "4321", "4999", "3456", "2500", "1005")) {
            assertFalse(scrape.contains("code=\"" + code + "\""), code + " got its own label:\n" + scrape);
        }
        assertEquals(3, lines(scrape, "closewatch_closes_total{").size(), scrape);
    }

    @Test
    void shouldGiveACustomCodeItsOwnLabel() {
        // Given a catalog that knows 4001 Token Expired
        CloseCode tokenExpired = new CloseCode(4001, 4001, "4001", "Token Expired",
                dev.closewatch.catalog.Category.PRIVATE, dev.closewatch.catalog.Severity.CLIENT_ERROR, true,
                "operator configuration", "token expired", "", "refresh the token");
        CloseCatalog custom = CATALOG.withCustomCodes(List.of(tokenExpired));

        // When a session ends with 4001 and another with 4002
        listener.onClose(eventWithClassification(4001, custom.classifyWire(4001)));
        listener.onClose(eventWithClassification(4002, custom.classifyWire(4002)));

        // Then 4001 has its own label and 4002 is bucketed
        String scrape = registry.scrape();
        assertEquals("1.0", sample(scrape,
                "closewatch_closes_total{category=\"private\",code=\"4001\",initiator=\"client\",route=\"r\"}"));
        assertEquals("1.0", sample(scrape,
                "closewatch_closes_total{category=\"private\",code=\"4xxx\",initiator=\"client\",route=\"r\"}"));
    }

    @Test
    void shouldCountFramesBytesAndViolationsByDirection() {
        // Given a session that relays a masked text frame, an unmasked (bad) client ping and a
        // server binary frame
        WebSocketSession session = newSession();
        byte[] maskedText = {(byte) 0x81, (byte) 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2};
        byte[] unmaskedPing = {(byte) 0x89, 0x00};
        byte[] serverBinary = {(byte) 0x82, 0x03, 7, 8, 9};
        observe(session, Direction.CLIENT_TO_UPSTREAM, maskedText);
        observe(session, Direction.CLIENT_TO_UPSTREAM, unmaskedPing);
        observe(session, Direction.UPSTREAM_TO_CLIENT, serverBinary);

        // When the observers' counts are drained into the route's meters
        RouteMeters meters = observability.route("r");
        session.observer(Direction.CLIENT_TO_UPSTREAM).drainCounts(meters);
        session.observer(Direction.UPSTREAM_TO_CLIENT).drainCounts(meters);

        // Then frames, bytes and the violation are counted exactly
        String scrape = registry.scrape();
        assertEquals("1.0", sample(scrape,
                "closewatch_frames_total{direction=\"client_to_upstream\",opcode=\"text\",route=\"r\"}"));
        assertEquals("1.0", sample(scrape,
                "closewatch_frames_total{direction=\"client_to_upstream\",opcode=\"ping\",route=\"r\"}"));
        assertEquals("0.0", sample(scrape,
                "closewatch_frames_total{direction=\"client_to_upstream\",opcode=\"binary\",route=\"r\"}"));
        assertEquals("1.0", sample(scrape,
                "closewatch_frames_total{direction=\"upstream_to_client\",opcode=\"binary\",route=\"r\"}"));
        assertEquals("0.0", sample(scrape,
                "closewatch_frames_total{direction=\"upstream_to_client\",opcode=\"reserved\",route=\"r\"}"));
        assertEquals("10.0", sample(scrape, "closewatch_bytes_total{direction=\"client_to_upstream\",route=\"r\"}"));
        assertEquals("5.0", sample(scrape, "closewatch_bytes_total{direction=\"upstream_to_client\",route=\"r\"}"));
        assertEquals("1.0", sample(scrape, "closewatch_protocol_violations_total"
                + "{direction=\"client_to_upstream\",route=\"r\",violation=\"unmasked_client_frame\"}"));
        assertEquals("0.0", sample(scrape, "closewatch_protocol_violations_total"
                + "{direction=\"upstream_to_client\",route=\"r\",violation=\"masked_server_frame\"}"));
        // every (direction, opcode) and (direction, violation) pair exists from the start
        assertEquals(2 * 7, lines(scrape, "closewatch_frames_total{").size());
        assertEquals(2 * 14, lines(scrape, "closewatch_protocol_violations_total{").size());
    }

    @Test
    void shouldCountUpgradesByStatusAndConnectFailuresByUpstreamAndCause() {
        // Given upgrade answers 101, 101, 403 and 502, one out-of-range status, and failures
        RouteMeters meters = observability.route("r");
        meters.upgrade(101);
        meters.upgrade(101);
        meters.upgrade(403);
        meters.upgrade(502);
        meters.upgrade(999);
        meters.upstream(UPSTREAM).failure(UpstreamFailure.REFUSED);
        meters.upstream(UPSTREAM).failure(UpstreamFailure.RESPONSE_TIMEOUT);
        meters.upstream(UPSTREAM).failure(UpstreamFailure.REFUSED);
        meters.upstream("ws://other:9000").failure(UpstreamFailure.REFUSED);
        meters.upstream(UPSTREAM).healthyAddresses(() -> 3);

        // When the registry is scraped
        String scrape = registry.scrape();

        // Then each is counted under its bounded label
        assertEquals("2.0", sample(scrape, "closewatch_upgrades_total{route=\"r\",status=\"101\"}"));
        assertEquals("1.0", sample(scrape, "closewatch_upgrades_total{route=\"r\",status=\"403\"}"));
        assertEquals("1.0", sample(scrape, "closewatch_upgrades_total{route=\"r\",status=\"502\"}"));
        assertEquals("1.0", sample(scrape, "closewatch_upgrades_total{route=\"r\",status=\"0\"}"));
        assertFalse(scrape.contains("status=\"999\""), scrape);
        assertEquals("2.0", sample(scrape,
                "closewatch_upstream_connect_failures_total{cause=\"refused\",route=\"r\",upstream=\"ws://chat:9000\"}"));
        assertEquals("1.0", sample(scrape,
                "closewatch_upstream_connect_failures_total{cause=\"response_timeout\",route=\"r\",upstream=\"ws://chat:9000\"}"));
        assertEquals("1.0", sample(scrape,
                "closewatch_upstream_connect_failures_total{cause=\"refused\",route=\"r\",upstream=\"ws://other:9000\"}"));
        // and every cause of a known upstream is there from the start, at 0
        assertEquals("0.0", sample(scrape,
                "closewatch_upstream_connect_failures_total{cause=\"connect_timeout\",route=\"r\",upstream=\"ws://other:9000\"}"));
        // and the healthy-address gauge reads its source, 0 until one is set
        assertEquals("3.0", sample(scrape, "closewatch_upstream_healthy_addresses{route=\"r\",upstream=\"ws://chat:9000\"}"));
        assertEquals("0.0", sample(scrape, "closewatch_upstream_healthy_addresses{route=\"r\",upstream=\"ws://other:9000\"}"));
    }

    @Test
    void shouldKeepRoutesApartAndReuseARoutesMeters() {
        // Given two routes
        SessionListener other = observability.sessionListener("other");

        // When each sees a close, and "r" is asked for again
        listener.onClose(event(1000, Initiator.CLIENT, true, true, Duration.ofSeconds(1), Duration.ZERO));
        other.onClose(event(1000, Initiator.CLIENT, true, true, Duration.ofSeconds(1), Duration.ZERO));
        listener.onClose(event(1000, Initiator.CLIENT, true, true, Duration.ofSeconds(1), Duration.ZERO));

        // Then each route has its own series, and the route's meters are one instance
        String scrape = registry.scrape();
        assertEquals("2.0", sample(scrape,
                "closewatch_closes_total{category=\"normal\",code=\"1000\",initiator=\"client\",route=\"r\"}"));
        assertEquals("1.0", sample(scrape,
                "closewatch_closes_total{category=\"normal\",code=\"1000\",initiator=\"client\",route=\"other\"}"));
        assertTrue(observability.route("r") == observability.route("r"));
        assertEquals("r", observability.route("r").route());
    }

    @Test
    void shouldHandCloseEventsToConsumersAndSurviveAFailingOne() {
        // Given a consumer that throws and one that records
        List<CloseEvent> seen = new ArrayList<>();
        observability.addCloseConsumer(e -> {
            throw new IllegalStateException("boom");
        });
        observability.addCloseConsumer(seen::add);
        CloseEvent event = event(1001, Initiator.UPSTREAM, true, true, Duration.ofSeconds(1), Duration.ZERO);

        // When a session ends
        listener.onClose(event);

        // Then the recording consumer still got it and the close was counted
        assertEquals(List.of(event), seen);
        assertEquals("1.0", sample(registry.scrape(),
                "closewatch_closes_total{category=\"going_away\",code=\"1001\",initiator=\"upstream\",route=\"r\"}"));
    }

    // ---------------------------------------------------------------------------------------

    /** A session through upstream {@link #UPSTREAM}, counted opened as the proxy counts it. */
    private WebSocketSession newSession() {
        observability.route("r").upstream(UPSTREAM).sessionOpened();
        return new WebSocketSession("s-1", "r", "127.0.0.1:50000", "127.0.0.1:8080", CATALOG, listener, nanos::get);
    }

    private static void observe(WebSocketSession session, Direction direction, byte[] bytes) {
        ByteBuf buf = Unpooled.copiedBuffer(bytes);
        try {
            session.observer(direction).observe(buf);
        } finally {
            buf.release();
        }
    }

    private static CloseEvent event(int code, Initiator initiator, boolean clean, boolean closeFrameSeen,
                                    Duration duration, Duration closeHandshake) {
        return new CloseEvent("s-1", "r", "127.0.0.1:50000", "127.0.0.1:8080", code, CATALOG.classifyWire(code),
                "", initiator, clean, closeFrameSeen, clean ? Cause.CLOSE_HANDSHAKE : Cause.FIN, Instant.EPOCH,
                duration, closeHandshake, 0, 0);
    }

    private static CloseEvent eventWithClassification(int code, CloseCode classification) {
        return new CloseEvent("s-1", "r", "127.0.0.1:50000", "127.0.0.1:8080", code, classification,
                "", Initiator.CLIENT, true, true, Cause.CLOSE_HANDSHAKE, Instant.EPOCH,
                Duration.ofSeconds(1), Duration.ZERO, 0, 0);
    }

    /** The value of the one sample line {@code series} (name and labels exactly as scraped). */
    private static String sample(String scrape, String series) {
        List<String> found = lines(scrape, series + " ");
        assertEquals(1, found.size(), () -> "series " + series + " in:\n" + scrape);
        return found.get(0).substring(series.length() + 1);
    }

    private static List<String> lines(String scrape, String prefix) {
        List<String> found = new ArrayList<>();
        for (String line : scrape.split("\n")) {
            if (line.startsWith(prefix)) {
                found.add(line);
            }
        }
        return found;
    }

    /** Metric family names from the {@code # TYPE} lines that start with closewatch_. */
    private static TreeSet<String> families(String scrape) {
        TreeSet<String> names = new TreeSet<>();
        for (String line : scrape.split("\n")) {
            if (line.startsWith("# TYPE closewatch_")) {
                names.add(line.split(" ")[2]);
            }
        }
        return names;
    }
}
