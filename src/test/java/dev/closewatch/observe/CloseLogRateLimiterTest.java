package dev.closewatch.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.catalog.Category;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/** The per-category token bucket of the close log, on a manual clock. */
class CloseLogRateLimiterTest {

    private final AtomicLong nanos = new AtomicLong(123_456_789L);

    @Test
    void shouldLetABurstThroughThenRefillAtTheRate() {
        // Given 20 lines/s with a burst of 100
        CloseLogRateLimiter limiter = new CloseLogRateLimiter(20, 100, nanos::get);

        // When 150 lines come at the same instant
        int passed = acquire(limiter, Category.ABNORMAL, 150);

        // Then exactly the burst passes
        assertEquals(100, passed);
        // and after one second exactly 20 more, after 49 ms none
        nanos.addAndGet(Duration.ofMillis(49).toNanos());
        assertFalse(limiter.tryAcquire(Category.ABNORMAL, Level.WARN));
        nanos.addAndGet(Duration.ofMillis(951).toNanos());
        assertEquals(20, acquire(limiter, Category.ABNORMAL, 50));
    }

    @Test
    void shouldNeverHoldMoreThanTheBurstAfterIdling() {
        // Given a limiter idle for an hour
        CloseLogRateLimiter limiter = new CloseLogRateLimiter(20, 100, nanos::get);
        nanos.addAndGet(Duration.ofHours(1).toNanos());

        // When a storm starts
        int passed = acquire(limiter, Category.ABNORMAL, 1000);

        // Then only the burst passes, not an hour of refill
        assertEquals(100, passed);
    }

    @Test
    void shouldLimitEachCategoryOnItsOwn() {
        // Given
        CloseLogRateLimiter limiter = new CloseLogRateLimiter(1, 2, nanos::get);

        // When two categories each see 5 lines
        int abnormal = acquire(limiter, Category.ABNORMAL, 5);
        int normal = acquire(limiter, Category.NORMAL, 5);

        // Then each has its own burst
        assertEquals(2, abnormal);
        assertEquals(2, normal);
        assertEquals(List.of(
                new CloseLogRateLimiter.Suppressed(Category.NORMAL, 3, Level.WARN, Duration.ZERO),
                new CloseLogRateLimiter.Suppressed(Category.ABNORMAL, 3, Level.WARN, Duration.ZERO)),
                limiter.drainSuppressed());
    }

    @Test
    void shouldDrainSuppressedCountsOnceWithTheirWindowAndMostSevereLevel() {
        // Given 3 suppressed lines at INFO and WARN
        CloseLogRateLimiter limiter = new CloseLogRateLimiter(1, 1, nanos::get);
        assertTrue(limiter.tryAcquire(Category.PRIVATE, Level.INFO));
        assertFalse(limiter.tryAcquire(Category.PRIVATE, Level.INFO));
        assertFalse(limiter.tryAcquire(Category.PRIVATE, Level.WARN));
        assertFalse(limiter.tryAcquire(Category.PRIVATE, Level.INFO));
        nanos.addAndGet(Duration.ofMillis(700).toNanos());

        // When drained twice
        List<CloseLogRateLimiter.Suppressed> first = limiter.drainSuppressed();
        nanos.addAndGet(Duration.ofSeconds(10).toNanos());
        List<CloseLogRateLimiter.Suppressed> second = limiter.drainSuppressed();

        // Then the first has the counts and the window since construction, the second nothing
        assertEquals(List.of(new CloseLogRateLimiter.Suppressed(Category.PRIVATE, 3, Level.WARN, Duration.ofMillis(700))),
                first);
        assertEquals(List.of(), second);
    }

    @Test
    void shouldPassEverythingWhenUnlimited() {
        // Given
        CloseLogRateLimiter limiter = new CloseLogRateLimiter(0, 1, nanos::get);

        // When
        int passed = acquire(limiter, Category.ABNORMAL, 10_000);

        // Then
        assertEquals(10_000, passed);
        assertEquals(List.of(), limiter.drainSuppressed());
        assertEquals(10_000, acquire(CloseLogRateLimiter.unlimited(), Category.ABNORMAL, 10_000));
    }

    @Test
    void shouldCountEveryLineExactlyOnceUnderContention() throws Exception {
        // Given 8 threads (event loops) hitting one category at one instant
        CloseLogRateLimiter limiter = new CloseLogRateLimiter(20, 100, nanos::get);
        ExecutorService threads = Executors.newFixedThreadPool(8);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<Integer>> passed = new java.util.ArrayList<>();
            for (int t = 0; t < 8; t++) {
                passed.add(threads.submit(() -> {
                    start.await();
                    return acquire(limiter, Category.ABNORMAL, 10_000);
                }));
            }

            // When they all go
            start.countDown();
            int total = 0;
            for (Future<Integer> f : passed) {
                total += f.get(30, TimeUnit.SECONDS);
            }

            // Then exactly the burst passed and the rest was counted
            assertEquals(100, total);
            assertEquals(79_900, limiter.drainSuppressed().get(0).lines());
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void shouldRejectImpossibleLimits() {
        IllegalArgumentException rate = assertThrows(IllegalArgumentException.class,
                () -> new CloseLogRateLimiter(-1, 1, nanos::get));
        IllegalArgumentException burst = assertThrows(IllegalArgumentException.class,
                () -> new CloseLogRateLimiter(1, 0, nanos::get));
        assertEquals("linesPerSecond: -1 (expected: >= 0)", rate.getMessage());
        assertEquals("burst: 0 (expected: >= 1)", burst.getMessage());
    }

    private static int acquire(CloseLogRateLimiter limiter, Category category, int lines) {
        int passed = 0;
        for (int i = 0; i < lines; i++) {
            if (limiter.tryAcquire(category, Level.WARN)) {
                passed++;
            }
        }
        return passed;
    }
}
