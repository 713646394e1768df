package dev.closewatch.demo;

import static java.util.Objects.requireNonNull;

import dev.closewatch.catalog.Category;
import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.catalog.CloseCode;
import dev.closewatch.diagnose.Intermediary;
import dev.closewatch.diagnose.Signature;
import dev.closewatch.diagnose.TimeoutKind;
import dev.closewatch.diagnose.reconnect.ReconnectTracker;
import dev.closewatch.observe.MeterNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The demo's screen, from the live {@code closewatch_closes_total} counters (so it shows exactly
 * what Prometheus scrapes) and the diagnosis (timeout signatures, reconnect storms).
 *
 * <p>Three shapes: {@link #render} fits a terminal of a given size (title, the codes with the most
 * closes first, a "why" area, remedies of the top codes when there is room); {@link #summaryLine}
 * is one line per interval for a pipe or a file; {@link #finalSummary} ends a run. Every line of
 * {@link #render} is at most {@code width} columns (text is cut with "…"), and it returns at most
 * {@code height - 1} lines, so a redraw never scrolls the screen.
 */
public final class LiveTable {

    /** The smallest terminal {@link #render} lays out for; smaller sizes are treated as this. */
    public static final int MIN_WIDTH = 40;
    public static final int MIN_HEIGHT = 8;
    private static final int MAX_REMEDIES = 3;
    private static final int MAX_NAME = 30;

    private final MeterRegistry registry;
    private final CloseCatalog catalog;
    private final Supplier<List<Signature>> signatures;
    private final Supplier<List<ReconnectTracker.Storm>> storms;

    /**
     * @param signatures the timeout signatures now ({@code SignatureDetector::signatures})
     * @param storms     the client keys in a reconnect storm now
     */
    public LiveTable(MeterRegistry registry, CloseCatalog catalog, Supplier<List<Signature>> signatures,
                     Supplier<List<ReconnectTracker.Storm>> storms) {
        this.registry = requireNonNull(registry, "registry");
        this.catalog = requireNonNull(catalog, "catalog");
        this.signatures = requireNonNull(signatures, "signatures");
        this.storms = requireNonNull(storms, "storms");
    }

    /** One code's closes by initiator. */
    private record Row(String code, String name, Category category, long client, long upstream, long proxy) {
        long total() {
            return client + upstream + proxy;
        }
    }

    /** The codes seen so far, most closes first (ties: by code). */
    private List<Row> rows() {
        Map<String, long[]> counts = new HashMap<>();
        Map<String, String> categories = new HashMap<>();
        for (Counter c : registry.find(MeterNames.CLOSES).counters()) {
            String code = c.getId().getTag(MeterNames.TAG_CODE);
            long[] row = counts.computeIfAbsent(code, k -> new long[3]);
            int col = switch (c.getId().getTag(MeterNames.TAG_INITIATOR)) {
                case "client" -> 0;
                case "upstream" -> 1;
                default -> 2;
            };
            row[col] += (long) c.count();
            categories.put(code, c.getId().getTag(MeterNames.TAG_CATEGORY));
        }
        List<Row> rows = new ArrayList<>();
        counts.forEach((code, r) -> {
            CloseCode cc = lookup(code);
            String name = cc != null ? cc.name()
                    : code.equals("invalid") ? "invalid on the wire" : categories.get(code) + " (uncatalogued)";
            Category category = cc != null ? cc.category() : category(categories.get(code));
            rows.add(new Row(code, name, category, r[0], r[1], r[2]));
        });
        rows.sort(Comparator.comparingLong(Row::total).reversed().thenComparing(Row::code));
        return rows;
    }

    private static Category category(String label) {
        try {
            return Category.fromLabel(label);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private CloseCode lookup(String label) {
        try {
            return catalog.lookup(Integer.parseInt(label));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private long opened() {
        return (long) registry.find(MeterNames.SESSIONS_OPENED).counters().stream().mapToDouble(Counter::count).sum();
    }

    private long active() {
        return (long) registry.find(MeterNames.SESSIONS_ACTIVE).gauges().stream().mapToDouble(g -> g.value()).sum();
    }

    /**
     * The screen for a terminal of {@code width} × {@code height} characters: at most
     * {@code height - 1} lines of at most {@code width} columns each.
     *
     * @param elapsedSeconds time since the demo started
     * @param subtitle       what to show after the title when there is room (e.g. the admin address)
     */
    public List<String> render(long elapsedSeconds, String subtitle, int width, int height) {
        int w = Math.max(MIN_WIDTH, width);
        int lines = Math.max(MIN_HEIGHT, height) - 1;
        List<Row> rows = rows();
        List<String> why = whyLines(w);
        // Fixed: title, header, total; at least one "why" line. Then the rows, then the rest of
        // the "why" area, then remedies of the top codes.
        int budget = lines - 4;
        int shown = Math.min(rows.size(), Math.max(0, budget));
        int left = budget - shown;
        int whyShown = 1 + Math.min(why.size() - 1, left);
        left -= whyShown - 1;
        if (whyShown == 1) {
            why = List.of(compactWhy());
        }
        List<Row> remedied = rows.stream().limit(shown).filter(r -> r.category() != Category.NORMAL)
                .limit(Math.min(MAX_REMEDIES, Math.max(0, left))).toList();

        int nameWidth = Math.min(MAX_NAME, w - 38);
        String rowFormat = "%-5s %-" + nameWidth + "s %7s %8s %6s %7s";
        List<String> out = new ArrayList<>();
        String title = String.format(Locale.ROOT, "closewatch demo  %d s  %d sessions, %d open", elapsedSeconds,
                opened(), active());
        if (subtitle != null && !subtitle.isEmpty() && title.length() + 2 + subtitle.length() <= w) {
            title += "  " + subtitle;
        }
        out.add(title);
        out.add(String.format(Locale.ROOT, rowFormat, "code", "name", "client", "upstream", "proxy", "total"));
        long total = 0;
        for (Row r : rows) {
            total += r.total();
        }
        for (Row r : rows.subList(0, shown)) {
            out.add(String.format(Locale.ROOT, rowFormat, r.code(), cut(r.name(), nameWidth), r.client(), r.upstream(),
                    r.proxy(), r.total()));
        }
        String all = shown < rows.size() ? "all (" + (rows.size() - shown) + " more codes)" : "all";
        out.add(String.format(Locale.ROOT, rowFormat, "", all, "", "", "", total));
        out.addAll(why.subList(0, whyShown));
        for (Row r : remedied) {
            CloseCode cc = lookup(r.code());
            if (cc != null) {
                out.add("fix " + r.code() + ": " + cc.remedy());
            }
        }
        return out.stream().map(l -> cut(l, w)).toList();
    }

    /**
     * The "why" area, wrapped to {@code width}: the strongest timeout signature (at most two
     * lines) and the reconnect storm (one line); the first line is the signature's headline.
     */
    List<String> whyLines(int width) {
        List<String> out = new ArrayList<>();
        List<Signature> sigs = signatures.get().stream()
                .sorted(Comparator.comparingInt(Signature::count).reversed()).toList();
        if (sigs.isEmpty()) {
            out.add("why   no timeout signature yet");
        } else {
            List<String> wrapped = wrap(describe(sigs.get(0)) + (sigs.size() > 1
                    ? " (+" + (sigs.size() - 1) + " more)" : ""), width - 6, "");
            for (int i = 0; i < Math.min(2, wrapped.size()); i++) {
                out.add((i == 0 ? "why   " : "      ") + wrapped.get(i));
            }
        }
        out.add("storm " + describeStorms(storms.get()));
        return out;
    }

    /** The "why" area in one line: "why   client leg 4.0 s idle (36 of 66) | storm: 2 clients". */
    String compactWhy() {
        String sig = signatures.get().stream().max(Comparator.comparingInt(Signature::count))
                .map(s -> String.format(Locale.ROOT, "%s leg %.1f s %s (%d of %d)", s.leg().label(),
                        s.valueMillis() / 1000.0, s.kind().label(), s.count(), s.total()))
                .orElse("no signature yet");
        int n = storms.get().size();
        return "why   " + sig + " | storm: " + (n == 0 ? "none" : n + (n == 1 ? " client" : " clients"));
    }

    /** "client leg: 27 of 30 abnormal ends after 4.0 s idle: an idle timeout of 4 s before closewatch". */
    static String describe(Signature s) {
        boolean idle = s.kind() == TimeoutKind.IDLE;
        String seconds = String.format(Locale.ROOT, "%.1f s", s.valueMillis() / 1000.0);
        String where = s.leg().label().equals("client") ? "between the clients and closewatch"
                : "between closewatch and the upstream";
        String text = String.format(Locale.ROOT, "%s leg: %d of %d abnormal ends after %s %s: %s of %s %s",
                s.leg().label(), s.count(), s.total(), seconds, idle ? "idle" : "of life",
                idle ? "an idle timeout" : "a lifetime cap", seconds, where);
        if (!s.culprits().isEmpty()) {
            text += " (likely " + s.culprits().stream().map(Intermediary::product).collect(Collectors.joining(", ")) + ")";
        }
        return text;
    }

    /** "3 clients reconnect without back-off (14 in a row, last 3/2/4 ms)": the longest streak's. */
    static String describeStorms(List<ReconnectTracker.Storm> storms) {
        if (storms.isEmpty()) {
            return "none: every reconnecting client backs off";
        }
        ReconnectTracker.Storm top = storms.stream()
                .max(Comparator.comparingInt(ReconnectTracker.Storm::reconnectsInARow)).orElseThrow();
        List<Long> delays = top.lastDelaysMillis();
        String last = delays.subList(Math.max(0, delays.size() - 3), delays.size()).stream().map(String::valueOf)
                .collect(Collectors.joining("/"));
        return String.format(Locale.ROOT, "%d client%s reconnect%s without back-off (%d in a row, last %s ms)",
                storms.size(), storms.size() == 1 ? "" : "s", storms.size() == 1 ? "s" : "", top.reconnectsInARow(), last);
    }

    /**
     * One line for a pipe or a file: time, sessions, the codes with the most closes (at most six),
     * the signature and the storm.
     */
    public String summaryLine(long elapsedSeconds) {
        List<Row> rows = rows();
        String codes = rows.stream().limit(6).map(r -> r.code() + "=" + r.total()).collect(Collectors.joining(" "));
        if (rows.size() > 6) {
            codes += " +" + (rows.size() - 6) + " codes";
        }
        List<Signature> sigs = signatures.get();
        String sig = sigs.isEmpty() ? "none" : sigs.stream().max(Comparator.comparingInt(Signature::count))
                .map(s -> String.format(Locale.ROOT, "%s leg %.1f s %s (%d of %d)", s.leg().label(),
                        s.valueMillis() / 1000.0, s.kind().label(), s.count(), s.total())).orElseThrow();
        return String.format(Locale.ROOT, "%ds sessions=%d open=%d closes: %s | signature: %s | storm clients: %d",
                elapsedSeconds, opened(), active(), codes.isEmpty() ? "none" : codes, sig, storms.get().size());
    }

    /**
     * The end of a run: sessions, every code's closes, the signatures with their remedy, the storm;
     * each wrapped to {@code width} columns (continuation lines indented), or one line each with
     * {@link Integer#MAX_VALUE}.
     */
    public List<String> finalSummary(long elapsedSeconds, int width) {
        return finalSummary(elapsedSeconds).stream()
                .flatMap(l -> wrap(l, Math.max(MIN_WIDTH, width), "           ").stream()).toList();
    }

    /** {@link #finalSummary(long, int)} one line each. */
    public List<String> finalSummary(long elapsedSeconds) {
        List<String> out = new ArrayList<>();
        List<Row> rows = rows();
        long total = rows.stream().mapToLong(Row::total).sum();
        out.add(String.format(Locale.ROOT, "summary after %d s: %d sessions opened, %d closed", elapsedSeconds,
                opened(), total));
        out.add("closes:    " + (rows.isEmpty() ? "none" : rows.stream()
                .map(r -> r.code() + " " + r.name() + " " + r.total()).collect(Collectors.joining(", "))));
        List<Signature> sigs = signatures.get();
        if (sigs.isEmpty()) {
            out.add("signature: none");
        }
        for (Signature s : sigs) {
            out.add("signature: " + describe(s));
            out.add("           remedy: " + s.remedy());
        }
        out.add("storm:     " + describeStorms(storms.get()));
        return out;
    }

    /** Words of {@code text} wrapped to {@code width}; lines after the first start with {@code indent}. */
    static List<String> wrap(String text, int width, String indent) {
        List<String> out = new ArrayList<>();
        int lead = 0;
        while (lead < text.length() && text.charAt(lead) == ' ') {
            lead++;
        }
        StringBuilder line = new StringBuilder(text.substring(0, lead));
        boolean empty = true;
        for (String word : text.substring(lead).split(" ")) {
            if (word.isEmpty()) {
                // a run of spaces inside a line (an aligned column) stays as written
                if (!empty) {
                    line.append(' ');
                }
                continue;
            }
            if (!empty && line.toString().stripTrailing().length() + 1 + word.length() > width) {
                out.add(line.toString().stripTrailing());
                line.setLength(0);
                line.append(indent);
                empty = true;
            }
            if (!empty) {
                line.append(' ');
            }
            line.append(word);
            empty = false;
        }
        if (!empty) {
            out.add(line.toString());
        }
        return out;
    }

    /** {@code s} cut to {@code max} characters, the last one "…" when cut. */
    static String cut(String s, int max) {
        return s.length() <= max ? s : s.substring(0, Math.max(0, max - 1)) + "…";
    }
}
