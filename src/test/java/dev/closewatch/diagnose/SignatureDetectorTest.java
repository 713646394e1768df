package dev.closewatch.diagnose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.DiagnosisConfig;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * {@link SignatureDetector} on a fake clock: when many abnormal ends of one route and leg sit at
 * one idle time or lifetime it reports a signature once (WARN line, gauge, list), names the
 * intermediaries whose default matches, and clears it when the ends leave the window; closewatch's
 * own timeouts never count.
 */
class SignatureDetectorTest {

    private static final CloseCatalog CATALOG = CloseCatalog.loadDefault();
    private static final long SECOND = 1_000_000_000L;
    private static final Instant T0 = Instant.parse("2026-11-29T14:02:00Z");

    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private final Logger log = (Logger) LoggerFactory.getLogger(SignatureDetector.LOGGER);
    private final AtomicLong nanos = new AtomicLong(5 * SECOND);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private SignatureDetector detector;
    private int session;

    @BeforeEach
    void start() {
        lines.start();
        log.addAppender(lines);
        // window 10 min, at least 10 ends and half of them, ±max(1 s, 2 %)
        detector = new SignatureDetector(DiagnosisConfig.defaults(), Intermediaries.loadDefault(), registry,
                nanos::get, Clock.fixed(T0, ZoneOffset.UTC));
    }

    @AfterEach
    void stop() {
        log.detachAppender(lines);
        detector.close();
    }

    @Test
    void shouldReportAnIdleSignatureOnceWithItsCulprits() {
        // Given 41 client-side 1006s after ~60 s idle (59.6-60.4 s) and 11 at scattered times
        for (int i = 0; i < 41; i++) {
            end(Initiator.CLIENT, 1006, false, Cause.FIN, 60_000 + (i % 9 - 4) * 100, 200_000 + i * 5_000);
        }
        for (int i = 0; i < 11; i++) {
            end(Initiator.CLIENT, 1006, false, Cause.RESET, 5_000 + i * 4_000, 300_000 + i * 13_000);
        }

        // When the windows are re-checked
        detector.tick();

        // Then one idle signature on the client leg at 60 s: 41 of 52, nginx and the ALB among the culprits
        List<Signature> found = detector.signatures();
        assertEquals(1, found.size());
        Signature s = found.get(0);
        assertEquals(List.of("chat", Leg.CLIENT, TimeoutKind.IDLE, 60_000L, "60", 41, 52),
                List.of(s.route(), s.leg(), s.kind(), s.valueMillis(), s.seconds(), s.count(), s.total()));
        List<String> culprits = s.culprits().stream().map(Intermediary::product).toList();
        assertEquals(List.of("nginx", "ingress-nginx (Kubernetes)", "AWS Application Load Balancer"), culprits);
        assertEquals("Abnormal ends (1006 or an unanswered Close) from the client side of route chat after 60.0 s idle"
                + " (41 of 52 since 2026-11-29T14:02:00Z): an idle timeout of 60 s between the clients and closewatch",
                s.text());
        assertTrue(s.remedy().contains("keepalive.ping_interval below 30 s"), s.remedy());
        // one WARN line, written as soon as the first 10 ends agreed (their median: 59.9 s), one gauge
        List<ILoggingEvent> warn = diagnosisLines();
        assertEquals(1, warn.size());
        assertEquals("appeared", ProxyHarness.kv(warn.get(0), "state"));
        assertEquals("59.9", ProxyHarness.kv(warn.get(0), "seconds"));
        assertEquals(10, warn.get(0).getKeyValuePairs().stream().filter(p -> p.key.equals("count")).findFirst().orElseThrow().value);
        assertEquals("client", ProxyHarness.kv(warn.get(0), "leg"));
        Gauge g = registry.get("closewatch.diagnosis.signature")
                .tags("route", "chat", "leg", "client", "kind", "idle", "seconds", "60").gauge();
        assertEquals(41, g.value());

        // When more ends at the same value come and the window is checked again
        for (int i = 0; i < 5; i++) {
            end(Initiator.CLIENT, 1006, false, Cause.FIN, 60_100, 100_000 + i * 9_000);
        }
        nanos.addAndGet(2 * SECOND);
        detector.tick();

        // Then the same signature, still reported once, with the new counts
        assertEquals(1, diagnosisLines().size());
        assertEquals(46, detector.signatures().get(0).count());
        assertEquals(46, g.value());
    }

    @Test
    void shouldClearTheSignatureWhenItsEndsLeaveTheWindow() {
        // Given a signature at 3 s idle on the upstream leg
        for (int i = 0; i < 10; i++) {
            end(Initiator.UPSTREAM, 1006, false, Cause.FIN, 3_000, 3_000);
        }
        detector.tick();
        assertEquals(1, detector.signatures().size());

        // When 10 min and 1 s pass without another end
        nanos.addAndGet(601 * SECOND);
        detector.tick();

        // Then it is cleared: a second WARN line, no gauge
        assertEquals(List.of(), detector.signatures());
        List<ILoggingEvent> warn = diagnosisLines();
        assertEquals(List.of("appeared", "cleared"), warn.stream().map(l -> ProxyHarness.kv(l, "state")).toList());
        assertEquals("upstream", ProxyHarness.kv(warn.get(1), "leg"));
        assertEquals(0.0, registry.get("closewatch.diagnosis.signature")
                .tags("route", "chat", "leg", "upstream", "kind", "idle", "seconds", "none").gauge().value());
        assertEquals(4, registry.find("closewatch.diagnosis.signature").gauges().size(), "one series per leg and kind");
    }

    @Test
    void shouldNeedTheCountAndTheShare() {
        // Given 9 ends at 30 s idle (one short of min_count) on one route, and on another 11 elsewhere, then 10 at 30 s
        for (int i = 0; i < 9; i++) {
            end("a", Initiator.CLIENT, 1006, false, Cause.FIN, 30_000, 40_000 + i * 5_000);
        }
        for (int i = 0; i < 11; i++) {
            end("b", Initiator.CLIENT, 1006, false, Cause.FIN, 100_000 + i * 50_000, 900_000 + i * 40_000);
        }
        for (int i = 0; i < 10; i++) {
            end("b", Initiator.CLIENT, 1006, false, Cause.FIN, 30_000, 40_000 + i * 5_000);
        }

        // When
        detector.tick();

        // Then neither is a signature: 9 < 10, and 10 of 21 < 50 %
        assertEquals(List.of(), detector.signatures());
        assertEquals(List.of(), diagnosisLines());
    }

    @Test
    void shouldNeverReportClosewatchsOwnTimeouts() {
        // Given 20 ends by closewatch's idle timeout (initiator proxy) and 20 by its ping timeout, all at 60 s
        for (int i = 0; i < 20; i++) {
            end(Initiator.PROXY, 1001, true, Cause.IDLE_TIMEOUT, 60_000, 60_000);
            end(Initiator.CLIENT, 1006, false, Cause.PING_TIMEOUT, 60_000, 60_000);
        }

        // When
        detector.tick();

        // Then nothing
        assertEquals(List.of(), detector.signatures());
    }

    @Test
    void shouldTellALifetimeCapFromAnIdleTimeout() {
        // Given 12 upstream-side unanswered 1001 Closes at 30 s of life, idle 0.5-10.4 s before
        for (int i = 0; i < 12; i++) {
            end(Initiator.UPSTREAM, 1001, false, Cause.FIN, 500 + i * 900, 30_000 + i * 20);
        }

        // When
        detector.tick();

        // Then a lifetime signature at 30 s naming Google Cloud's load balancer, and no idle one
        List<Signature> found = detector.signatures();
        assertEquals(1, found.size());
        assertEquals(TimeoutKind.LIFETIME, found.get(0).kind());
        assertEquals("30", found.get(0).seconds());
        assertEquals(List.of("Google Cloud Application Load Balancer"),
                found.get(0).culprits().stream().map(Intermediary::product).toList());
        assertTrue(found.get(0).remedy().startsWith("A lifetime cap"), found.get(0).remedy());
    }

    @Test
    void shouldNotCallSessionsCutWhileTrafficFlowsAnIdleTimeout() {
        // Given 30 upstream-side 1006s of a crashed backend: traffic until 0-0.9 s before, lifetimes all different
        for (int i = 0; i < 30; i++) {
            end(Initiator.UPSTREAM, 1006, false, Cause.RESET, i * 30, 5_000 + i * 7_000);
        }

        // When
        detector.tick();

        // Then no signature: idle times near 0 are no timeout
        assertEquals(List.of(), detector.signatures());
    }

    @Test
    void shouldRoundTheLabelToAFixedBucket() {
        assertEquals("3", SignatureDetector.bucket(3_000));
        assertEquals("55", SignatureDetector.bucket(56_000));
        assertEquals("350", SignatureDetector.bucket(349_000));
        assertEquals("7200", SignatureDetector.bucket(7_200_000));
        assertEquals("more", SignatureDetector.bucket(20_000_000));
    }

    private void end(Initiator initiator, int code, boolean clean, Cause cause, long idleMs, long lifetimeMs) {
        end("chat", initiator, code, clean, cause, idleMs, lifetimeMs);
    }

    private void end(String route, Initiator initiator, int code, boolean clean, Cause cause, long idleMs,
                     long lifetimeMs) {
        nanos.addAndGet(SECOND / 100);
        detector.accept(new CloseEvent("s-" + session++, route, "127.0.0.1:50000", "127.0.0.1:8080", code,
                CATALOG.lookup(code), "", initiator, clean, code != 1006, cause, T0, Duration.ofMillis(lifetimeMs),
                null, 0, 0, null, Duration.ofMillis(idleMs + 500), Duration.ofMillis(idleMs)));
    }

    private List<ILoggingEvent> diagnosisLines() {
        return lines.list.stream().filter(l -> SignatureDetector.EVENT.equals(ProxyHarness.kv(l, "event"))).toList();
    }
}
