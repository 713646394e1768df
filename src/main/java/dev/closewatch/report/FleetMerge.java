package dev.closewatch.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.report.FleetReport.CodeCount;
import dev.closewatch.report.FleetReport.Culprit;
import dev.closewatch.report.FleetReport.Evidence;
import dev.closewatch.report.FleetReport.InstanceCount;
import dev.closewatch.report.FleetReport.InstanceStatus;
import dev.closewatch.report.FleetReport.ReconnectLine;
import dev.closewatch.report.FleetReport.SignatureLine;
import dev.closewatch.report.FleetReport.Storm;
import dev.closewatch.report.FleetReport.TopEntry;
import dev.closewatch.report.FleetReport.TopList;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Merges instances' admin answers into one {@link FleetReport}: counts are summed, signatures
 * united by route, leg, kind and seconds bucket (with each instance's evidence), top-offender
 * lists merged by value and re-ranked by summed count. Pure: no I/O.
 */
public final class FleetMerge {

    /** The top offenders' window of every instance ({@code Observability.TOP_WINDOW}). */
    static final long TOP_WINDOW_SECONDS = 600;

    private final CloseCatalog catalog;

    /** @param catalog names previous codes the instances' summaries do not name */
    public FleetMerge(CloseCatalog catalog) {
        this.catalog = catalog;
    }

    /**
     * One instance asked: its answers, or the reason it gave none.
     *
     * @param admin    the {@code HOST:PORT} asked
     * @param answers  its answers, or null
     * @param error    why it did not answer, or null
     */
    public record Outcome(String admin, AdminClient.Instance answers, String error) {
    }

    /**
     * @param outcomes   every instance asked, in command-line order
     * @param window     the window asked for
     * @param topLimit   entries kept per top-offender list
     * @param now        the report's time
     */
    public FleetReport merge(List<Outcome> outcomes, Duration window, int topLimit, Instant now) {
        List<InstanceStatus> statuses = new ArrayList<>();
        List<AdminClient.Instance> answered = new ArrayList<>();
        for (Outcome o : outcomes) {
            statuses.add(new InstanceStatus(o.admin(), o.answers() != null, o.error()));
            if (o.answers() != null) {
                answered.add(o.answers());
            }
        }
        long open = 0;
        long closes = 0;
        for (AdminClient.Instance i : answered) {
            open += i.summary().path("open_sessions").asLong();
            closes += i.summary().path("closes").asLong();
        }
        return new FleetReport(now.toString(), window.toSeconds(), outcomes.size(), answered.size(), statuses,
                open, closes, codes(answered), signatures(answered), storms(answered), reconnects(answered, codeNames(answered)),
                TOP_WINDOW_SECONDS, top(answered, topLimit));
    }

    private static List<CodeCount> codes(List<AdminClient.Instance> instances) {
        Map<String, CodeCount> merged = new LinkedHashMap<>();
        for (AdminClient.Instance i : instances) {
            for (JsonNode c : i.summary().path("by_code")) {
                String code = c.path("code").asText();
                CodeCount prev = merged.get(code);
                List<InstanceCount> byInstance = new ArrayList<>(prev == null ? List.of() : prev.byInstance());
                byInstance.add(new InstanceCount(i.admin(), c.path("count").asLong()));
                merged.put(code, new CodeCount(code, c.path("name").asText(), c.path("category").asText(),
                        c.path("severity").asText(), c.path("description").asText(), c.path("remedy").asText(),
                        c.path("count").asLong() + (prev == null ? 0 : prev.count()),
                        c.path("client").asLong() + (prev == null ? 0 : prev.client()),
                        c.path("upstream").asLong() + (prev == null ? 0 : prev.upstream()),
                        c.path("proxy").asLong() + (prev == null ? 0 : prev.proxy()), byInstance));
            }
        }
        List<CodeCount> out = new ArrayList<>(merged.values());
        out.sort(Comparator.comparingLong(CodeCount::count).reversed().thenComparing(CodeCount::code));
        return out;
    }

    private static Map<String, String> codeNames(List<AdminClient.Instance> instances) {
        Map<String, String> names = new LinkedHashMap<>();
        for (AdminClient.Instance i : instances) {
            for (JsonNode c : i.summary().path("by_code")) {
                names.putIfAbsent(c.path("code").asText(), c.path("name").asText());
            }
        }
        return names;
    }

    private static List<SignatureLine> signatures(List<AdminClient.Instance> instances) {
        Map<String, List<JsonNode>> byKey = new LinkedHashMap<>();
        Map<String, List<String>> admins = new LinkedHashMap<>();
        for (AdminClient.Instance i : instances) {
            for (JsonNode s : i.diagnosis().path("signatures")) {
                String key = String.join("\u0000", s.path("route").asText(), s.path("leg").asText(),
                        s.path("kind").asText(), s.path("bucket").asText());
                byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(s);
                admins.computeIfAbsent(key, k -> new ArrayList<>()).add(i.admin());
            }
        }
        List<SignatureLine> out = new ArrayList<>();
        byKey.forEach((key, found) -> {
            JsonNode first = found.get(0);
            long count = 0;
            long total = 0;
            double weighted = 0;
            Map<String, Culprit> culprits = new LinkedHashMap<>();
            List<Evidence> evidence = new ArrayList<>();
            for (int n = 0; n < found.size(); n++) {
                JsonNode s = found.get(n);
                long c = s.path("count").asLong();
                count += c;
                total += s.path("total").asLong();
                weighted += c * s.path("seconds").asDouble();
                for (JsonNode k : s.path("culprits")) {
                    culprits.putIfAbsent(k.path("product").asText() + "\u0000" + k.path("setting").asText(),
                            new Culprit(k.path("product").asText(), k.path("setting").asText(),
                                    k.path("default_seconds").asDouble(), k.path("kind").asText(), k.path("source").asText()));
                }
                evidence.add(new Evidence(admins.get(key).get(n), s.path("seconds").asDouble(), c,
                        s.path("total").asLong(), s.path("since").asText(), s.path("text").asText()));
            }
            double seconds = count == 0 ? first.path("seconds").asDouble() : Math.round(weighted / count * 1000) / 1000.0;
            out.add(new SignatureLine(first.path("route").asText(), first.path("leg").asText(), first.path("kind").asText(),
                    first.path("bucket").asText(), seconds, count, total, first.path("remedy").asText(),
                    new ArrayList<>(culprits.values()), evidence));
        });
        out.sort(Comparator.comparing(SignatureLine::route).thenComparing(SignatureLine::leg)
                .thenComparing(SignatureLine::kind).thenComparingDouble(SignatureLine::seconds));
        return out;
    }

    private static List<Storm> storms(List<AdminClient.Instance> instances) {
        List<Storm> out = new ArrayList<>();
        for (AdminClient.Instance i : instances) {
            // /api/diagnosis lists them since this release; /api/reconnects always did
            JsonNode storms = i.diagnosis().has("storms") ? i.diagnosis().path("storms") : i.reconnects().path("storms");
            for (JsonNode s : storms) {
                List<Long> delays = new ArrayList<>();
                s.path("last_delays_ms").forEach(d -> delays.add(d.asLong()));
                out.add(new Storm(i.admin(), s.path("key").asText(), s.path("route").asText(),
                        s.path("reconnects_in_a_row").asInt(), delays));
            }
        }
        out.sort(Comparator.comparingInt(Storm::reconnectsInARow).reversed().thenComparing(Storm::route)
                .thenComparing(Storm::admin).thenComparing(Storm::key));
        return out;
    }

    private List<ReconnectLine> reconnects(List<AdminClient.Instance> instances, Map<String, String> names) {
        Map<String, long[]> sums = new LinkedHashMap<>();
        for (AdminClient.Instance i : instances) {
            for (JsonNode c : i.reconnects().path("by_previous_code")) {
                long[] s = sums.computeIfAbsent(c.path("code").asText(), k -> new long[4]);
                s[0] += c.path("reconnects").asLong();
                s[1] += c.path("waited_at_least_1s").asLong();
                s[2] += c.path("comparable").asLong();
                s[3] += c.path("grew").asLong();
            }
        }
        List<ReconnectLine> out = new ArrayList<>();
        sums.forEach((code, s) -> {
            String backoff = s[2] == 0 ? "unknown" : 2 * s[3] >= s[2] ? "yes" : "no";
            out.add(new ReconnectLine(code, names.getOrDefault(code, catalogName(code)), s[0], s[1], share(s[1], s[0]),
                    s[2], s[3], share(s[3], s[2]), backoff));
        });
        out.sort(Comparator.comparingLong(ReconnectLine::reconnects).reversed().thenComparing(ReconnectLine::code));
        return out;
    }

    private String catalogName(String code) {
        try {
            return catalog.lookup(Integer.parseInt(code)).name();
        } catch (IllegalArgumentException e) { // 4xxx, 3xxx, invalid: a label, not a number
            return code.equals("invalid") ? "invalid code" : "code " + code;
        }
    }

    private static List<TopList> top(List<AdminClient.Instance> instances, int limit) {
        Map<String, Map<String, Long>> merged = new LinkedHashMap<>();
        for (AdminClient.Instance i : instances) {
            i.top().forEach((category, byDimension) -> byDimension.forEach((by, answer) -> {
                Map<String, Long> counts = merged.computeIfAbsent(category + "\u0000" + by, k -> new LinkedHashMap<>());
                for (JsonNode e : answer.path("top")) {
                    counts.merge(e.path("value").asText(), e.path("count").asLong(), Long::sum);
                }
            }));
        }
        List<TopList> out = new ArrayList<>();
        merged.forEach((key, counts) -> {
            String[] parts = key.split("\u0000", 2);
            List<TopEntry> entries = counts.entrySet().stream()
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                    .limit(limit).map(e -> new TopEntry(e.getKey(), e.getValue())).toList();
            if (!entries.isEmpty()) {
                out.add(new TopList(parts[0], parts[1], entries));
            }
        });
        out.sort(Comparator.comparing(TopList::category)
                .thenComparingInt(t -> AdminClient.DIMENSIONS.indexOf(t.by())));
        return out;
    }

    private static double share(long part, long whole) {
        return whole == 0 ? 0.0 : Math.round(1000.0 * part / whole) / 1000.0;
    }
}
