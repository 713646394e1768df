package dev.closewatch.report;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The fleet view {@code closewatch report} prints: one or several instances' admin answers
 * merged. This record is also the {@code --json} document (snake_case names, in declaration
 * order), whose shape docs/report.schema.json writes down: change both together.
 *
 * @param generatedAt            when the report was made (ISO-8601 UTC)
 * @param windowSeconds          the window of {@code sessions} and {@code closes_by_code}
 * @param asked                  instances asked
 * @param answered               instances that answered every request
 * @param instances              each instance asked, in command-line order, with its error if it
 *                               did not answer
 * @param openSessions           sessions open now, summed
 * @param closes                 session ends in the window, summed
 * @param closesByCode           session ends in the window by status code, most first
 * @param signatures             timeout signatures found now, united by route, leg, kind and
 *                               seconds bucket, sorted by those
 * @param storms                 client keys in a reconnect storm now, per instance (the keys'
 *                               hashes differ between instances, so they are never joined)
 * @param reconnectsByPreviousCode reconnects since each instance started, by the code that ended
 *                               the previous session, summed
 * @param topWindowSeconds       the top offenders' window (fixed at 10 minutes by the instances)
 * @param topOffenders           per category other than {@code normal} and dimension, the heaviest
 *                               hitters, counts summed over instances
 */
public record FleetReport(String generatedAt, long windowSeconds, int asked, int answered,
                          List<InstanceStatus> instances, long openSessions, long closes,
                          List<CodeCount> closesByCode, List<SignatureLine> signatures, List<Storm> storms,
                          List<ReconnectLine> reconnectsByPreviousCode, long topWindowSeconds,
                          List<TopList> topOffenders) {

    /** One instance asked: answered, or not and why. */
    public record InstanceStatus(String admin, boolean answered, String error) {
    }

    /**
     * One status code's ends in the window: the {@code code} label, the catalog's name, category,
     * severity, meaning and remedy; the count in total, by initiator and by instance.
     */
    public record CodeCount(String code, String name, String category, String severity, String description,
                            String remedy, long count, long client, long upstream, long proxy,
                            List<InstanceCount> byInstance) {
    }

    /** A count from one instance. */
    public record InstanceCount(String admin, long count) {
    }

    /**
     * One timeout signature across the fleet: {@code seconds} is the count-weighted mean of the
     * instances' values, {@code count} of {@code total} the summed matching and abnormal ends;
     * {@code evidence} is each instance's own finding.
     */
    public record SignatureLine(String route, String leg, String kind, String bucket, double seconds, long count,
                                long total, String remedy, List<Culprit> culprits, List<Evidence> evidence) {
    }

    /** A well-known intermediary whose default matches the signature. */
    public record Culprit(String product, String setting, double defaultSeconds, String kind, String source) {
    }

    /** One instance's signature: its value, counts, since when, and its own sentence. */
    public record Evidence(String admin, double seconds, long count, long total, String since, String text) {
    }

    /** One client key in a reconnect storm on one instance (the key's hash, never the key). */
    public record Storm(String admin, String key, String route,
                        @JsonProperty("reconnects_in_a_row") int reconnectsInARow, List<Long> lastDelaysMs) {
    }

    /**
     * Reconnects after one previous code: how many; how many waited at least 1 s and the share; of
     * those with an earlier delay to compare, how many waited longer (grew) and the share;
     * {@code backoff} is {@code yes} when at least half grew, {@code no} when fewer did,
     * {@code unknown} with nothing to compare.
     */
    public record ReconnectLine(String code, String name, long reconnects,
                                @JsonProperty("waited_at_least_1s") long waitedAtLeast1s,
                                @JsonProperty("share_waited_at_least_1s") double shareWaitedAtLeast1s,
                                long comparable, long grew, double shareGrew, String backoff) {
    }

    /** The heaviest hitters of one dimension among one category's ends. */
    public record TopList(String category, String by, List<TopEntry> entries) {
    }

    /** One value and its estimated session ends, summed over instances. */
    public record TopEntry(String value, long count) {
    }
}
