package dev.closewatch.config;

import java.time.Duration;
import java.util.List;

/**
 * Timeout signatures: how many abnormal ends at one idle time (or one session lifetime) make an
 * intermediary's timeout visible. See {@code docs/diagnosis.md}.
 *
 * @param window         the rolling window of session ends looked at, per route and leg (default 10m)
 * @param minCount       at least this many ends at one value make a signature (default 10)
 * @param minShare       and at least this share of the leg's abnormal ends in the window,
 *                       0 &lt; share &le; 1 (default 0.5)
 * @param tolerance      ends within ±max({@code tolerance}, {@code toleranceRatio} × value) of the
 *                       value count for it (default 1s)
 * @param toleranceRatio the relative part of the tolerance (default 0.02 = 2 %)
 * @param intermediaries the operator's own intermediaries, named as culprits before the
 *                       well-known defaults (default none)
 */
public record DiagnosisConfig(Duration window, Integer minCount, Double minShare, Duration tolerance,
                              Double toleranceRatio, List<IntermediaryConfig> intermediaries) {

    public DiagnosisConfig {
        window = window == null ? Duration.ofMinutes(10) : window;
        minCount = minCount == null ? 10 : minCount;
        minShare = minShare == null ? 0.5 : minShare;
        tolerance = tolerance == null ? Duration.ofSeconds(1) : tolerance;
        toleranceRatio = toleranceRatio == null ? 0.02 : toleranceRatio;
        intermediaries = intermediaries == null ? List.of() : List.copyOf(intermediaries);
    }

    /** Without intermediaries of the operator's own. */
    public DiagnosisConfig(Duration window, Integer minCount, Double minShare, Duration tolerance,
                           Double toleranceRatio) {
        this(window, minCount, minShare, tolerance, toleranceRatio, null);
    }

    /** The defaults. */
    public static DiagnosisConfig defaults() {
        return new DiagnosisConfig(null, null, null, null, null);
    }

    void validate(List<String> errors) {
        if (window.compareTo(Duration.ofSeconds(1)) < 0 || window.compareTo(Duration.ofDays(1)) > 0) {
            errors.add("diagnosis.window: " + Durations.format(window) + " (expected: 1s-24h, e.g. 10m)");
        }
        if (minCount < 2 || minCount > 100_000) {
            errors.add("diagnosis.min_count: " + minCount + " (expected: 2-100000)");
        }
        if (!(minShare > 0 && minShare <= 1)) {
            errors.add("diagnosis.min_share: " + minShare + " (expected: > 0 and <= 1, e.g. 0.5)");
        }
        if (tolerance.isNegative() || tolerance.compareTo(Duration.ofMinutes(1)) > 0) {
            errors.add("diagnosis.tolerance: " + Durations.format(tolerance) + " (expected: 0-1m, e.g. 1s)");
        }
        if (!(toleranceRatio >= 0 && toleranceRatio < 0.5)) {
            errors.add("diagnosis.tolerance_ratio: " + toleranceRatio + " (expected: >= 0 and < 0.5, e.g. 0.02)");
        }
        for (int i = 0; i < intermediaries.size(); i++) {
            IntermediaryConfig entry = intermediaries.get(i);
            if (entry == null) {
                errors.add("diagnosis.intermediaries[" + i + "]: (expected: product, setting, timeout, kind)");
            } else {
                entry.validate("diagnosis.intermediaries[" + i + "]", errors);
            }
        }
    }
}
