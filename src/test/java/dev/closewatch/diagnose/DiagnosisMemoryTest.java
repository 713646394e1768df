package dev.closewatch.diagnose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.catalog.Category;
import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.ReconnectConfig;
import dev.closewatch.diagnose.reconnect.ReconnectMeters;
import dev.closewatch.diagnose.reconnect.ReconnectTracker;
import dev.closewatch.diagnose.top.TopOffenders;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import dev.closewatch.websocket.SessionFacts;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The memory the diagnosis keeps, measured as retained heap (used heap after full collections,
 * with and without the structure), not timed: the bounds stated in
 * docs/reconnects-and-top-offenders.md.
 */
class DiagnosisMemoryTest {

    /** The documented bound per remembered client key, map entry included. */
    static final long BYTES_PER_KEY = 256;
    /** The documented bound for every top-offender sketch full, values at their longest. */
    static final long TOP_OFFENDERS_BYTES = 32L << 20;

    @Test
    void shouldKeep100000ClientKeysWithinTheStatedBytesPerKey() {
        // Given an empty tracker for 100,000 keys
        AtomicLong nanos = new AtomicLong();
        CloseEvent abnormal = new CloseEvent("s", "r", "c", "u", 1006, CloseCatalog.loadDefault().lookup(1006), "",
                Initiator.CLIENT, false, false, Cause.FIN, Instant.EPOCH, Duration.ZERO, null, 0, 0);
        long before = usedHeap();
        ReconnectTracker tracker = new ReconnectTracker(new ReconnectConfig(null, 100_000, null, null),
                new ReconnectMeters(new SimpleMeterRegistry()), nanos::get);

        // When 100,000 distinct IPv6 client keys each open, end abnormally and reconnect (the
        // most a key keeps: its state, its delay ring)
        for (int i = 0; i < 100_000; i++) {
            String key = "2001:db8::" + Integer.toHexString(i);
            tracker.opened("r", key);
            nanos.addAndGet(1_000_000);
            tracker.closed(key, abnormal, nanos.get());
            tracker.opened("r", key);
        }
        long after = usedHeap();

        // Then all are kept, within the stated bytes per key
        assertEquals(100_000, tracker.size());
        long perKey = (after - before) / 100_000;
        System.out.println("reconnect tracker: " + perKey + " bytes per key retained");
        assertTrue(perKey > 0 && perKey <= BYTES_PER_KEY, perKey + " bytes per key (expected: <= " + BYTES_PER_KEY + ")");
        Reference.reachabilityFence(tracker);
    }

    @Test
    void shouldKeepEveryTopOffenderSketchFullWithinTheStatedBound() {
        // Given top offenders over a window of 5 slices
        AtomicLong nanos = new AtomicLong();
        long before = usedHeap();
        TopOffenders top = new TopOffenders(Duration.ofMinutes(10), nanos::get);

        // When every slice sees 1,000 distinct values of maximum length per dimension in every category
        String pad = "x".repeat(TopOffenders.MAX_VALUE_LENGTH);
        for (int slice = 0; slice < TopOffenders.SLICES; slice++) {
            for (Category c : Category.values()) {
                for (int i = 0; i < 1000; i++) {
                    String v = i + pad;
                    top.record(new SessionFacts(null, "10.0." + (i / 256) + "." + (i % 256), v, v, v), c);
                }
            }
            nanos.addAndGet(Duration.ofMinutes(2).toNanos());
        }
        nanos.addAndGet(-Duration.ofMinutes(2).toNanos());
        long after = usedHeap();

        // Then the sketches hold within the stated bound, and still answer for the whole window
        long retained = after - before;
        System.out.println("top offenders: " + (retained >> 10) + " KiB retained with every sketch full");
        assertTrue(retained > 0 && retained <= TOP_OFFENDERS_BYTES, retained + " bytes (expected: <= " + TOP_OFFENDERS_BYTES + ")");
        assertEquals(5 * 1000, top.top(TopOffenders.Dimension.PATH, Category.ABNORMAL, 1).sessions());
        Reference.reachabilityFence(top);
    }

    private static long usedHeap() {
        long used = Long.MAX_VALUE;
        // Collections until the figure settles: System.gc() is a full, synchronous collection with G1.
        for (int i = 0; i < 5; i++) {
            System.gc();
            used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
