package dev.closewatch.config;

import java.time.Duration;
import org.slf4j.event.Level;

/**
 * Close-log settings.
 *
 * @param normalLevel level of the close line for normal ends (1000, 1001, 1012): default DEBUG
 * @param rateLimit   how many close lines per category may be written under a storm
 */
public record LogConfig(Level normalLevel, RateLimit rateLimit) {

    public LogConfig {
        normalLevel = normalLevel == null ? Level.DEBUG : normalLevel;
        rateLimit = rateLimit == null ? new RateLimit(null, null, null) : rateLimit;
    }

    /** Normal ends at {@code normalLevel}; the default rate limit. */
    public LogConfig(Level normalLevel) {
        this(normalLevel, null);
    }

    /**
     * A token bucket per close category ({@code category} label, e.g. {@code abnormal}): each
     * category may write {@code burst} lines at once and {@code linesPerSecond} lines per second
     * on average; lines over the limit are counted, not written, and one
     * {@code event=websocket.close.suppressed} line per category and {@code summaryInterval}
     * reports how many. Metrics are never sampled.
     *
     * @param linesPerSecond  sustained close lines per second per category (default
     *                        {@value #DEFAULT_LINES_PER_SECOND}); 0 writes every line
     * @param burst           close lines per category that may be written at once (default
     *                        {@value #DEFAULT_BURST}), at least 1
     * @param summaryInterval how often the "suppressed N lines" summary is written, per category
     *                        with suppressed lines (default 10s), at least 1s
     */
    public record RateLimit(Integer linesPerSecond, Integer burst, Duration summaryInterval) {

        public static final int DEFAULT_LINES_PER_SECOND = 20;
        public static final int DEFAULT_BURST = 100;
        public static final Duration DEFAULT_SUMMARY_INTERVAL = Duration.ofSeconds(10);

        public RateLimit {
            linesPerSecond = linesPerSecond == null ? DEFAULT_LINES_PER_SECOND : linesPerSecond;
            burst = burst == null ? DEFAULT_BURST : burst;
            summaryInterval = summaryInterval == null ? DEFAULT_SUMMARY_INTERVAL : summaryInterval;
        }

        /** Whether every line is written ({@code lines_per_second: 0}). */
        public boolean unlimited() {
            return linesPerSecond == 0;
        }
    }
}
