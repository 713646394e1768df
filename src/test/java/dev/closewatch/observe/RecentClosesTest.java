package dev.closewatch.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The bounded ring of recent close events behind {@code /api/closes}. */
class RecentClosesTest {

    private static final CloseCatalog CATALOG = CloseCatalog.loadDefault();

    @Test
    void shouldKeepTheNewestEventsNewestFirst() {
        // Given a ring of 3
        RecentCloses ring = new RecentCloses(3);

        // When 5 events are recorded
        for (int i = 1; i <= 5; i++) {
            ring.accept(event("s-" + i, 1000, Initiator.CLIENT));
        }

        // Then the last 3 remain, newest first
        assertEquals(List.of("s-5", "s-4", "s-3"), ids(ring.newestFirst(e -> true, 10)));
        assertEquals(List.of("s-5", "s-4"), ids(ring.newestFirst(e -> true, 2)));
        assertEquals(5, ring.recorded());
        assertEquals(3, ring.capacity());
    }

    @Test
    void shouldFilterBeforeLimiting() {
        // Given
        RecentCloses ring = new RecentCloses(10);
        ring.accept(event("a", 1006, Initiator.CLIENT));
        ring.accept(event("b", 1000, Initiator.CLIENT));
        ring.accept(event("c", 1006, Initiator.UPSTREAM));
        ring.accept(event("d", 1006, Initiator.CLIENT));
        ring.accept(event("e", 1001, Initiator.UPSTREAM));

        // When / Then
        assertEquals(List.of("d", "c", "a"), ids(ring.newestFirst(e -> e.code() == 1006, 10)));
        assertEquals(List.of("d", "c"), ids(ring.newestFirst(e -> e.code() == 1006, 2)));
        assertEquals(List.of("d", "a"), ids(ring.newestFirst(e -> e.code() == 1006 && e.initiator() == Initiator.CLIENT, 10)));
        assertEquals(List.of(), ids(ring.newestFirst(e -> e.code() == 1011, 10)));
    }

    @Test
    void shouldBeEmptyAtFirst() {
        assertEquals(List.of(), new RecentCloses(1).newestFirst(e -> true, 1));
    }

    @Test
    void shouldKeepExactlyTheCapacityUnderConcurrentWriters() throws Exception {
        // Given 8 event loops writing 10,000 events each into a ring of 1000
        RecentCloses ring = new RecentCloses(1000);
        ExecutorService threads = Executors.newFixedThreadPool(8);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                done.add(threads.submit(() -> {
                    start.await();
                    for (int i = 0; i < 10_000; i++) {
                        ring.accept(event(thread + "-" + i, 1000, Initiator.CLIENT));
                    }
                    return null;
                }));
            }

            // When they finish
            start.countDown();
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }

            // Then every event was numbered and the ring holds 1000 distinct ones
            assertEquals(80_000, ring.recorded());
            List<CloseEvent> kept = ring.newestFirst(e -> true, 1000);
            assertEquals(1000, kept.size());
            Set<String> distinct = new HashSet<>(ids(kept));
            assertEquals(1000, distinct.size());
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void shouldRejectImpossibleSizes() {
        assertEquals("capacity: 0 (expected: >= 1)",
                assertThrows(IllegalArgumentException.class, () -> new RecentCloses(0)).getMessage());
        assertEquals("limit: 0 (expected: >= 1)",
                assertThrows(IllegalArgumentException.class, () -> new RecentCloses(1).newestFirst(e -> true, 0))
                        .getMessage());
    }

    private static List<String> ids(List<CloseEvent> events) {
        return events.stream().map(CloseEvent::sessionId).toList();
    }

    static CloseEvent event(String session, int code, Initiator initiator) {
        return new CloseEvent(session, "r", "127.0.0.1:50000", "127.0.0.1:8080", code, CATALOG.lookup(code), "",
                initiator, true, true, Cause.CLOSE_HANDSHAKE, Instant.EPOCH, Duration.ofSeconds(1), Duration.ZERO, 0, 0);
    }
}
