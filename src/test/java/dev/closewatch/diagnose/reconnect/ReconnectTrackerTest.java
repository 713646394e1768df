package dev.closewatch.diagnose.reconnect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.ReconnectConfig;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Reconnect delays, counts and storm detection on a fake clock. */
class ReconnectTrackerTest {

    private static final CloseCatalog CATALOG = CloseCatalog.loadDefault();

    private final AtomicLong nanos = new AtomicLong(1_000_000_000_000L);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final ReconnectTracker tracker = new ReconnectTracker(new ReconnectConfig(null, 3, Duration.ofMinutes(10), 5),
            new ReconnectMeters(registry), nanos::get);

    @Test
    void shouldFlagAKeyThatReconnectsImmediatelyAfterEveryAbnormalClose() {
        // Given a client that drops (1006) and comes back after 5-9 ms, six times
        tracker.opened("r", "198.51.100.7");
        for (int i = 0; i < 6; i++) {
            end("198.51.100.7", 1006, Initiator.CLIENT);
            advance(Duration.ofMillis(5 + (i % 2) * 4));
            tracker.opened("r", "198.51.100.7");
        }

        // Then it is in a storm after the fifth, listed with its last five delays and hashed key
        assertEquals(1, tracker.stormClients("r"));
        ReconnectTracker.Storm storm = tracker.snapshot().storms().get(0);
        assertEquals(6, storm.reconnectsInARow());
        assertEquals(List.of(9L, 5L, 9L, 5L, 9L), storm.lastDelaysMillis());
        assertTrue(storm.key().matches("[0-9a-f]{16}"));
        assertFalse(storm.key().contains("198"));
        assertEquals(1.0, registry.get("closewatch.reconnect.storm.clients").tag("route", "r").gauge().value());
        assertEquals(6, registry.get(ReconnectMeters.RECONNECTS).tags("route", "r", "previous_code", "1006").counter().count());
    }

    @Test
    void shouldNotFlagAKeyThatBacksOffExponentially() {
        // Given a client that doubles its wait from 100 ms after each abnormal close, eight times
        tracker.opened("r", "k");
        long wait = 100;
        for (int i = 0; i < 8; i++) {
            end("k", 1006, Initiator.UPSTREAM);
            advance(Duration.ofMillis(wait));
            tracker.opened("r", "k");
            wait *= 2;
        }

        // Then no storm, and every delay after the first grew
        assertEquals(0, tracker.stormClients("r"));
        ReconnectTracker.PreviousCode stats = tracker.snapshot().byPreviousCode().get(0);
        assertEquals(new ReconnectTracker.PreviousCode("1006", 8, 4, 7, 7), stats);
    }

    @Test
    void shouldNotCountReconnectsAfterTheClientsOwnCleanClose() {
        // Given a client that closes normally (1000, client first) and reconnects at once, six times
        tracker.opened("r", "k");
        for (int i = 0; i < 6; i++) {
            end("k", 1000, Initiator.CLIENT);
            advance(Duration.ofMillis(1));
            tracker.opened("r", "k");
        }

        // Then they are reconnects, but no storm
        assertEquals(6, registry.get(ReconnectMeters.RECONNECTS).tags("route", "r", "previous_code", "1000").counter().count());
        assertEquals(0, tracker.stormClients("r"));
    }

    @Test
    void shouldRecordTheDelayInTheHistogramBucketsByPreviousCategory() {
        // Given reconnects after 30 ms, 700 ms and 3 s following server restarts (1012 from upstream)
        tracker.opened("r", "k");
        for (Duration d : List.of(Duration.ofMillis(30), Duration.ofMillis(700), Duration.ofSeconds(3))) {
            end("k", 1012, Initiator.UPSTREAM);
            advance(d);
            tracker.opened("r", "k");
        }

        // Then the histogram of route r, previous category service_restart, has them in their buckets
        Timer timer = registry.get(ReconnectMeters.RECONNECT_DELAY).tags("route", "r", "previous_category", "service_restart").timer();
        assertEquals(3, timer.count());
        assertEquals(1.0, bucket(timer, Duration.ofMillis(50)));
        assertEquals(1.0, bucket(timer, Duration.ofMillis(500)));
        assertEquals(2.0, bucket(timer, Duration.ofSeconds(1)));
        assertEquals(2.0, bucket(timer, Duration.ofSeconds(2)));
        assertEquals(3.0, bucket(timer, Duration.ofSeconds(5)));
    }

    @Test
    void shouldNotCountASessionOpenedAfterTheWindow() {
        // Given a session end, then 11 minutes of nothing
        tracker.opened("r", "k");
        end("k", 1006, Initiator.CLIENT);
        advance(Duration.ofMinutes(11));

        // When the key comes back
        tracker.opened("r", "k");

        // Then it is not a reconnect
        assertTrue(registry.find(ReconnectMeters.RECONNECTS).counters().isEmpty());
    }

    @Test
    void shouldLeaveTheStormWhenTheKeyStaysAwayForAWindow() {
        // Given a key in a storm
        tracker.opened("r", "k");
        for (int i = 0; i < 5; i++) {
            end("k", 1006, Initiator.CLIENT);
            advance(Duration.ofMillis(2));
            tracker.opened("r", "k");
        }
        assertEquals(1, tracker.stormClients("r"));

        // When nothing is heard of it for more than the window
        advance(Duration.ofMinutes(10).plusSeconds(1));

        // Then it is no longer counted
        assertEquals(0, tracker.stormClients("r"));
        assertEquals(List.of(), tracker.snapshot().storms());
    }

    @Test
    void shouldEvictTheLeastRecentlySeenKeyBeyondMaxKeys() {
        // Given max_keys 3 and keys a, b, c, then a seen again
        for (String k : List.of("a", "b", "c")) {
            tracker.opened("r", k);
            end(k, 1006, Initiator.CLIENT);
        }
        tracker.opened("r", "a");
        end("a", 1006, Initiator.CLIENT);

        // When a fourth key arrives
        tracker.opened("r", "d");

        // Then b (least recently seen) is forgotten: its return is no reconnect; a's is
        assertEquals(3, tracker.size());
        tracker.opened("r", "b");
        tracker.opened("r", "a");
        assertEquals(2.0, registry.get(ReconnectMeters.RECONNECTS).tags("route", "r", "previous_code", "1006").counter().count());
    }

    @Test
    void shouldCountAReconnectWhose101IsHandledBeforeThePreviousSessionsEnd() {
        // Given a client dropped (1006) whose next 101 is handled 1 ms before the old connection's
        // end is recorded (two event loops), and a second one whose 101 came 200 ms before the end
        tracker.opened("r", "a");
        advance(Duration.ofSeconds(1));
        long aEnded = nanos.get();
        tracker.opened("r", "a");
        advance(Duration.ofMillis(1));
        tracker.closed("a", event("r", 1006, Initiator.CLIENT), aEnded + Duration.ofMillis(1).toNanos());
        tracker.opened("r", "b");
        advance(Duration.ofSeconds(1));
        tracker.opened("r", "b");
        advance(Duration.ofMillis(200));
        tracker.closed("b", event("r", 1006, Initiator.CLIENT), nanos.get());

        // and a session that lasted 50 ms, alone
        tracker.opened("r", "c");
        advance(Duration.ofMillis(50));
        tracker.closed("c", event("r", 1006, Initiator.CLIENT), nanos.get());

        // Then a's is a reconnect after 0 s; b's second session was a concurrent one, and c's own open no reconnect
        assertEquals(1.0, registry.get(ReconnectMeters.RECONNECTS).tags("route", "r", "previous_code", "1006").counter().count());
        assertEquals(new ReconnectTracker.PreviousCode("1006", 1, 0, 0, 0), tracker.snapshot().byPreviousCode().get(0));
    }

    @Test
    void shouldIgnoreSessionsWithoutAKey() {
        // Given sessions whose request lacked the configured header
        tracker.opened("r", null);
        tracker.closed(null, event("r", 1006, Initiator.CLIENT), nanos.get());

        // Then nothing is remembered
        assertEquals(0, tracker.size());
    }

    private void end(String key, int code, Initiator initiator) {
        advance(Duration.ofSeconds(1));
        tracker.closed(key, event("r", code, initiator), nanos.get());
    }

    private void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    private static CloseEvent event(String route, int code, Initiator initiator) {
        return new CloseEvent("s", route, "198.51.100.7:1", "127.0.0.1:2", code, CATALOG.lookup(code), "", initiator,
                false, code != 1006, code == 1006 ? Cause.FIN : Cause.CLOSE_HANDSHAKE, Instant.EPOCH, Duration.ofSeconds(1),
                null, 0, 0);
    }

    private static double bucket(Timer timer, Duration le) {
        for (CountAtBucket b : timer.takeSnapshot().histogramCounts()) {
            if (b.bucket(java.util.concurrent.TimeUnit.NANOSECONDS) == le.toNanos()) {
                return b.count();
            }
        }
        throw new AssertionError("no bucket " + le);
    }
}
