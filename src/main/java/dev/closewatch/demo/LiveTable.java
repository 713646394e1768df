package dev.closewatch.demo;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.observe.MeterNames;
import dev.closewatch.websocket.CloseEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Renders the demo's per-code table from the live {@code closewatch_closes_total} counters (so it
 * shows exactly what Prometheus scrapes), plus the last few session ends with their remedy.
 */
public final class LiveTable implements Consumer<CloseEvent> {

    private final MeterRegistry registry;
    private final CloseCatalog catalog;
    private final Deque<CloseEvent> recent = new ArrayDeque<>();

    public LiveTable(MeterRegistry registry, CloseCatalog catalog) {
        this.registry = registry;
        this.catalog = catalog;
    }

    @Override
    public void accept(CloseEvent event) {
        synchronized (recent) {
            recent.addFirst(event);
            while (recent.size() > 4) {
                recent.removeLast();
            }
        }
    }

    /** Prints the table; {@code clear} redraws in place on a terminal. */
    public void print(PrintStream out, long elapsedSeconds, boolean clear) {
        Map<String, long[]> rows = new TreeMap<>((a, b) -> sortKey(a).compareTo(sortKey(b)));
        Map<String, String> names = new TreeMap<>();
        for (Counter c : registry.find(MeterNames.CLOSES).counters()) {
            String code = c.getId().getTag(MeterNames.TAG_CODE);
            String initiator = c.getId().getTag(MeterNames.TAG_INITIATOR);
            long[] row = rows.computeIfAbsent(code, k -> new long[3]);
            int col = switch (initiator) {
                case "client" -> 0;
                case "upstream" -> 1;
                default -> 2;
            };
            row[col] += (long) c.count();
            names.put(code, name(code, c.getId().getTag(MeterNames.TAG_CATEGORY)));
        }
        StringBuilder sb = new StringBuilder();
        if (clear) {
            sb.append("\033[H\033[2J");
        }
        double opened = registry.find(MeterNames.SESSIONS_OPENED).counters().stream().mapToDouble(Counter::count).sum();
        double active = registry.find(MeterNames.SESSIONS_ACTIVE).gauges().stream().mapToDouble(g -> g.value()).sum();
        sb.append(String.format("closewatch demo — %ds — sessions opened %d, active %d%n%n", elapsedSeconds,
                (long) opened, (long) active));
        sb.append(String.format("%-8s %-28s %8s %9s %7s %8s%n", "code", "name", "client", "upstream", "proxy", "total"));
        long total = 0;
        for (Map.Entry<String, long[]> e : rows.entrySet()) {
            long[] r = e.getValue();
            long sum = r[0] + r[1] + r[2];
            total += sum;
            sb.append(String.format("%-8s %-28s %8d %9d %7d %8d%n", e.getKey(), names.get(e.getKey()), r[0], r[1], r[2], sum));
        }
        sb.append(String.format("%-8s %-28s %8s %9s %7s %8d%n%n", "", "all", "", "", "", total));
        synchronized (recent) {
            for (CloseEvent ev : recent) {
                sb.append(String.format("  %s %s by %s (clean=%s, cause=%s): %s%n", ev.codeText(),
                        ev.classification().name(), ev.initiator().label(), ev.clean(), ev.cause().label(),
                        truncate(ev.classification().remedy(), 110)));
            }
        }
        out.print(sb);
        out.flush();
    }

    private String name(String label, String category) {
        try {
            return truncate(catalog.lookup(Integer.parseInt(label)).name(), 28);
        } catch (NumberFormatException e) {
            return label.equals("invalid") ? "invalid on the wire" : category + " (uncatalogued)";
        }
    }

    private static String sortKey(String label) {
        return label.length() == 4 && Character.isDigit(label.charAt(0)) ? label : "~" + label;
    }

    private static String truncate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }
}
