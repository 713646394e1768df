package dev.closewatch.diagnose;

import java.time.Instant;
import java.util.List;

/**
 * A timeout signature: many abnormal ends of one route and leg at one idle time or one session
 * lifetime, within the window.
 *
 * @param route       the route (a configured name)
 * @param leg         the side of closewatch the connections were cut on
 * @param kind        idle time or lifetime
 * @param valueMillis the signature's value: the median of the matching ends, in milliseconds
 * @param seconds     {@code valueMillis} rounded to the nearest of {@link SignatureDetector#BUCKETS_SECONDS}
 *                    (the metric's {@code seconds} label), or {@code more}
 * @param count       abnormal ends of this route and leg in the window within the tolerance of the value
 * @param total       abnormal ends of this route and leg in the window
 * @param since       when the oldest end in the window happened
 * @param detectedAt  when this signature appeared
 * @param culprits    well-known intermediaries whose default matches the value, possibly none
 * @param text        one sentence saying what was seen and what it means
 * @param remedy      what to change
 */
public record Signature(String route, Leg leg, TimeoutKind kind, long valueMillis, String seconds, int count,
                        int total, Instant since, Instant detectedAt, List<Intermediary> culprits, String text,
                        String remedy) {

    public Signature {
        culprits = List.copyOf(culprits);
    }
}
