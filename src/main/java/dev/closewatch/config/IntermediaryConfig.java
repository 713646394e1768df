package dev.closewatch.config;

import java.time.Duration;
import java.util.List;

/**
 * An intermediary of the operator's own (a corporate proxy, a load balancer with non-default
 * settings) whose timeout a timeout signature may match, named as a likely culprit before the
 * well-known defaults of {@code diagnose/intermediaries.yaml}. See {@code docs/diagnosis.md}.
 *
 * @param product what sits in the path, e.g. {@code edge-lb (HAProxy)}
 * @param setting the knob to raise; the remedy names it
 * @param timeout its value in your deployment, 1 ms to 7 days
 * @param kind    {@code idle} (no bytes either way for that long) or {@code lifetime} (the
 *                connection's whole life)
 * @param source  where the value comes from (optional; default {@code operator configuration})
 * @param note    how it applies to WebSockets (optional)
 */
public record IntermediaryConfig(String product, String setting, Duration timeout, String kind, String source,
                                 String note) {

    /** The values {@code kind} takes. */
    public static final List<String> KINDS = List.of("idle", "lifetime");

    void validate(String at, List<String> errors) {
        if (product == null || product.isBlank()) {
            errors.add(at + ".product: (expected: what sits in the path, e.g. edge-lb (HAProxy))");
        }
        if (setting == null || setting.isBlank()) {
            errors.add(at + ".setting: (expected: the setting to raise, e.g. timeout tunnel)");
        }
        if (timeout == null || timeout.toMillis() < 1 || timeout.compareTo(Duration.ofDays(7)) > 0) {
            errors.add(at + ".timeout: " + (timeout == null ? "" : Durations.format(timeout))
                    + " (expected: 1ms-7d, e.g. 75s)");
        }
        if (kind == null || !KINDS.contains(kind)) {
            errors.add(at + ".kind: " + (kind == null ? "" : kind) + " (expected: idle or lifetime)");
        }
    }
}
