package dev.closewatch.observe;

import static java.util.Objects.requireNonNull;

import dev.closewatch.catalog.Category;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.TimeMeter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.event.Level;

/**
 * Decides whether a close log line may be written: one token bucket per {@link Category}, holding
 * at most {@code burst} lines and refilled continuously at {@code linesPerSecond}. Lines refused
 * are counted per category until {@link #drainSuppressed()} hands the counts to whoever writes
 * the "suppressed N lines" summary ({@link CloseLogger}).
 *
 * <p>The buckets are Bucket4j's lock-free local buckets ({@code capacity(burst)
 * .refillGreedy(linesPerSecond, 1 s)}) on the given clock. Safe to call from every event loop at
 * once.
 */
public final class CloseLogRateLimiter {

    private static final Category[] CATEGORIES = Category.values();

    private final long linesPerSecond;
    private final long burst;
    private final LongSupplier nanoClock;
    private final Bucket[] buckets;
    private final AtomicLong[] suppressed;
    /** Per category, the most severe level of the lines it suppressed; the summary's level. */
    private final Level[] suppressedLevel;
    private long windowStartNanos;

    /**
     * A limiter reading {@code nanoClock} for time.
     *
     * @param linesPerSecond sustained lines per second per category; 0 lets every line through
     * @param burst          lines per category that may pass at once, at least 1
     * @param nanoClock      monotonic clock in nanoseconds ({@code System::nanoTime} outside tests)
     * @throws IllegalArgumentException if {@code linesPerSecond < 0} or {@code burst < 1}
     */
    public CloseLogRateLimiter(long linesPerSecond, long burst, LongSupplier nanoClock) {
        if (linesPerSecond < 0) {
            throw new IllegalArgumentException("linesPerSecond: " + linesPerSecond + " (expected: >= 0)");
        }
        if (burst < 1) {
            throw new IllegalArgumentException("burst: " + burst + " (expected: >= 1)");
        }
        this.linesPerSecond = linesPerSecond;
        this.burst = burst;
        this.nanoClock = requireNonNull(nanoClock, "nanoClock");
        this.buckets = new Bucket[CATEGORIES.length];
        this.suppressed = new AtomicLong[CATEGORIES.length];
        this.suppressedLevel = new Level[CATEGORIES.length];
        long now = nanoClock.getAsLong();
        for (int i = 0; i < CATEGORIES.length; i++) {
            buckets[i] = linesPerSecond == 0 ? null : Bucket.builder()
                    .addLimit(limit -> limit.capacity(burst).refillGreedy(linesPerSecond, Duration.ofSeconds(1)))
                    .withCustomTimePrecision(new TimeMeter() {
                        @Override
                        public long currentTimeNanos() {
                            return nanoClock.getAsLong();
                        }

                        @Override
                        public boolean isWallClockBased() {
                            return false;
                        }
                    })
                    .build();
            suppressed[i] = new AtomicLong();
        }
        this.windowStartNanos = now;
    }

    /** A limiter that lets every line through and never suppresses one. */
    public static CloseLogRateLimiter unlimited() {
        return new CloseLogRateLimiter(0, 1, System::nanoTime);
    }

    /** Sustained lines per second per category; 0 if unlimited. */
    public long linesPerSecond() {
        return linesPerSecond;
    }

    /** Lines per category that may pass at once. */
    public long burst() {
        return burst;
    }

    /**
     * Takes one line from {@code category}'s bucket.
     *
     * @param level the level the line would be written at; remembered for the summary
     * @return true if the line may be written; false if it was counted as suppressed instead
     */
    public boolean tryAcquire(Category category, Level level) {
        Bucket bucket = buckets[category.ordinal()];
        if (bucket == null || bucket.tryConsume(1)) {
            return true;
        }
        int i = category.ordinal();
        suppressed[i].incrementAndGet();
        Level seen = suppressedLevel[i];
        if (seen == null || seen.toInt() < level.toInt()) {
            // a benign race: two threads may each write their level; either is a level seen
            suppressedLevel[i] = level;
        }
        return false;
    }

    /**
     * Takes the suppressed counts gathered since the previous call (or construction), resetting
     * them; no count is lost or counted twice, even while other threads keep calling
     * {@link #tryAcquire}. Callers must not call this concurrently with itself.
     *
     * @return one entry per category with at least one suppressed line, in {@link Category} order
     */
    public List<Suppressed> drainSuppressed() {
        long now = nanoClock.getAsLong();
        Duration window = Duration.ofNanos(now - windowStartNanos);
        windowStartNanos = now;
        List<Suppressed> out = new ArrayList<>(0);
        for (int i = 0; i < CATEGORIES.length; i++) {
            long n = suppressed[i].getAndSet(0);
            if (n > 0) {
                Level level = suppressedLevel[i];
                out.add(new Suppressed(CATEGORIES[i], n, level == null ? Level.INFO : level, window));
            }
        }
        return out;
    }

    /**
     * Lines of one category not written during a window.
     *
     * @param category the close category
     * @param lines    how many lines were suppressed, at least 1
     * @param level    the most severe level among them
     * @param window   time since the previous {@link #drainSuppressed()} (or construction)
     */
    public record Suppressed(Category category, long lines, Level level, Duration window) {
    }
}
