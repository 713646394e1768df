package dev.closewatch.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.diagnose.Leg;
import dev.closewatch.diagnose.Signature;
import dev.closewatch.diagnose.TimeoutKind;
import dev.closewatch.diagnose.reconnect.ReconnectTracker;
import dev.closewatch.observe.MeterNames;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The demo's screen at given terminal sizes, from counters set to known values. */
class LiveTableTest {

    private static final Signature SIGNATURE = new Signature("default", Leg.CLIENT, TimeoutKind.IDLE, 4_002, "5", 36,
            66, Instant.parse("2026-11-30T00:34:30Z"), Instant.parse("2026-11-30T00:34:42Z"), List.of(),
            "Abnormal ends (1006 or an unanswered Close) from the client side of route default after 4.0 s idle",
            "Raise that idle timeout above the longest quiet time of a session, or keep the leg busy: closewatch's"
                    + " keepalive.ping_interval below 2.0 s sends Pings to the clients, whose Pongs cross that leg.");
    private static final ReconnectTracker.Storm STORM = new ReconnectTracker.Storm("00000000000000aa", "default", 14,
            List.of(3L, 2L, 4L, 5L, 3L), Duration.ofMillis(200));

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<Signature> signatures = new ArrayList<>();
    private final List<ReconnectTracker.Storm> storms = new ArrayList<>();
    private final LiveTable table = new LiveTable(registry, CloseCatalog.loadDefault(), () -> signatures, () -> storms);

    private void closes(String code, String category, String initiator, long n) {
        registry.counter(MeterNames.CLOSES, MeterNames.TAG_ROUTE, "default", MeterNames.TAG_CODE, code,
                MeterNames.TAG_CATEGORY, category, MeterNames.TAG_INITIATOR, initiator).increment(n);
    }

    /** What the demo's mix produces after a minute: 13 codes, 1006 the most. */
    private void aMinuteOfTheDemo() {
        closes("1006", "abnormal", "client", 180);
        closes("1006", "abnormal", "upstream", 61);
        closes("1013", "try_again_later", "upstream", 230);
        closes("1000", "normal", "client", 61);
        closes("1000", "normal", "upstream", 60);
        String[][] others = {{"1001", "going_away"}, {"1003", "unsupported_data"}, {"1005", "no_status"},
            {"1007", "invalid_payload"}, {"1008", "policy_violation"}, {"1009", "message_too_big"},
            {"1011", "internal_error"}, {"1012", "service_restart"}, {"4xxx", "private"}};
        for (String[] o : others) {
            closes(o[0], o[1], "upstream", 60);
        }
        closes("4001", "private", "upstream", 59);
        registry.counter(MeterNames.SESSIONS_OPENED, MeterNames.TAG_ROUTE, "default").increment(1_333);
        Gauge.builder(MeterNames.SESSIONS_ACTIVE, () -> 12).tag(MeterNames.TAG_ROUTE, "default").register(registry);
        signatures.add(SIGNATURE);
        storms.add(STORM);
        storms.add(new ReconnectTracker.Storm("00000000000000bb", "default", 9, List.of(5L), Duration.ZERO));
    }

    @Test
    void shouldFitTitleTopCodesAndWhyInto80x24() {
        // Given a minute of the demo's traffic, a signature and a storm
        aMinuteOfTheDemo();
        // When
        List<String> screen = table.render(60, "admin 127.0.0.1:8081", 80, 24);
        // Then: fewer lines than the screen has (a redraw must not scroll), none wider than it
        assertTrue(screen.size() <= 23, String.join("\n", screen));
        for (String line : screen) {
            assertTrue(line.length() <= 80, line.length() + ": " + line);
        }
        assertEquals("closewatch demo  60 s  1333 sessions, 12 open  admin 127.0.0.1:8081", screen.get(0));
        assertEquals("code  name                            client upstream  proxy   total", screen.get(1));
        // the codes with the most closes first, with their counts by initiator
        assertEquals("1006  Abnormal Closure                   180       61      0     241", screen.get(2));
        assertEquals("1013  Try Again Later                      0      230      0     230", screen.get(3));
        assertEquals("1000  Normal Closure                      61       60      0     121", screen.get(4));
        assertTrue(screen.contains("      all                                                       1191"),
                String.join("\n", screen));
        // the "why" area: the signature and the storm
        String why = String.join("\n", screen);
        assertTrue(why.contains("\nwhy   client leg: 36 of 66 abnormal ends after 4.0 s idle: an idle timeout of\n"
                + "      4.0 s between the clients and closewatch\n"), why);
        assertTrue(why.contains("\nstorm 2 clients reconnect without back-off (14 in a row, last 4/5/3 ms)"),
                why);
        // remedies for the top non-normal codes only, cut to the width
        assertTrue(screen.get(screen.size() - 3).startsWith("fix 1006: "), why);
        assertTrue(screen.get(screen.size() - 2).startsWith("fix 1013: "), why);
        assertTrue(screen.get(screen.size() - 1).startsWith("fix 1001: "), why);
        assertTrue(screen.get(screen.size() - 1).endsWith("…"), why);
    }

    @Test
    void shouldKeepTitleTopCodesAndOneWhyLineOnASmallScreen() {
        // Given
        aMinuteOfTheDemo();
        // When: 60 × 10
        List<String> screen = table.render(60, "admin 127.0.0.1:8081", 60, 10);
        // Then: title, header, the top 5 codes, the total naming the hidden ones, one "why" line
        String all = String.join("\n", screen);
        assertEquals(9, screen.size(), all);
        screen.forEach(l -> assertTrue(l.length() <= 60, l));
        assertEquals("closewatch demo  60 s  1333 sessions, 12 open", screen.get(0));
        assertTrue(screen.get(2).startsWith("1006  Abnormal Closure"), all);
        assertTrue(screen.get(6).startsWith("1003  Unsupported Data"), all);
        assertTrue(screen.get(7).startsWith("      all (8 more codes)"), all);
        assertEquals("why   client leg 4.0 s idle (36 of 66) | storm: 2 clients", screen.get(8));
    }

    @Test
    void shouldSayWhenThereIsNoSignatureOrStormYet() {
        // Given nothing closed yet
        // When
        List<String> screen = table.render(0, "", 80, 24);
        // Then
        assertEquals(List.of("closewatch demo  0 s  0 sessions, 0 open",
                "code  name                            client upstream  proxy   total",
                "      all                                                          0",
                "why   no timeout signature yet",
                "storm none: every reconnecting client backs off"), screen);
    }

    @Test
    void shouldSummarizeAnIntervalInOneLine() {
        // Given
        aMinuteOfTheDemo();
        // When
        String line = table.summaryLine(60);
        // Then
        assertEquals("60s sessions=1333 open=12 closes: 1006=241 1013=230 1000=121 1001=60 1003=60 1005=60 +7 codes"
                + " | signature: client leg 4.0 s idle (36 of 66) | storm clients: 2", line);
    }

    @Test
    void shouldEndWithCodesSignatureRemedyAndStorm() {
        // Given
        aMinuteOfTheDemo();
        // When
        List<String> summary = table.finalSummary(60);
        // Then
        assertEquals("summary after 60 s: 1333 sessions opened, 1191 closed", summary.get(0));
        assertTrue(summary.get(1).startsWith("closes:    1006 Abnormal Closure 241, 1013 Try Again Later 230, "),
                summary.get(1));
        assertEquals("signature: client leg: 36 of 66 abnormal ends after 4.0 s idle: an idle timeout of 4.0 s"
                + " between the clients and closewatch", summary.get(2));
        assertEquals("           remedy: " + SIGNATURE.remedy(), summary.get(3));
        assertEquals("storm:     2 clients reconnect without back-off (14 in a row, last 4/5/3 ms)",
                summary.get(4));
    }

    @Test
    void shouldWrapTheFinalSummaryToTheTerminal() {
        // Given
        aMinuteOfTheDemo();
        // When
        List<String> summary = table.finalSummary(60, 80);
        // Then: every line fits, continuation lines are indented, nothing is lost
        summary.forEach(l -> assertTrue(l.length() <= 80, l));
        assertTrue(summary.get(2).startsWith("           "), summary.get(2));
        assertTrue(summary.get(1).startsWith("closes:    1006 Abnormal Closure 241, "), summary.get(1));
        assertEquals(String.join(" ", table.finalSummary(60)).replaceAll(" +", " "),
                String.join(" ", summary).replaceAll(" +", " "));
    }
}
