package dev.closewatch.bench;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Turns the runs into {@code report.md} (the summary table with ratios and targets, the JMH
 * table, close counting, every run) and {@code report.json} (the same data, raw).
 */
final class Report {

    /** A row of the summary table: a figure of a scenario, and the target it is held to, if any. */
    private record Row(String scenario, String figure, String label, boolean higherIsBetter, Goal goal) {
    }

    /**
     * A target of the issue, checked on the median ratio (or median value for {@code absolute}).
     *
     * @param against  {@code direct}, {@code nginx} or {@code absolute} (closewatch's own median)
     * @param bound    the ratio (or value) to reach
     * @param atLeast  whether the figure must be at least (else at most) the bound
     */
    private record Goal(String against, double bound, boolean atLeast, String text) {
    }

    private static final List<Row> ROWS = List.of(
            new Row("echo", "messages_per_s", "messages/s", true, null),
            new Row("echo", "messages_per_s", "messages/s", true, new Goal("nginx", 1.0, true, "≥ nginx")),
            new Row("echo", "messages_per_s", "messages/s", true, new Goal("direct", 0.85, true, "≥ 0.85 × direct")),
            new Row("echo", "p50_us", "latency p50 (µs)", false, null),
            new Row("echo", "p99_us", "latency p99 (µs)", false, new Goal("nginx", 1.0, false, "≤ nginx")),
            new Row("echo", "p999_us", "latency p99.9 (µs)", false, null),
            new Row("echo", "proxy_cpu_cores", "proxy CPU (cores)", false, null),
            new Row("echo", "proxy_cpu_us_per_unit", "proxy CPU per message (µs)", false, null),
            new Row("echo", "proxy_kernel_share", "proxy CPU share in the kernel", false, null),
            new Row("echo", "proxy_switches_per_unit", "proxy context switches per message", false, null),
            new Row("stream", "mb_per_s", "MB/s", true, new Goal("direct", 0.9, true, "≥ 0.9 × direct")),
            new Row("stream", "proxy_cpu_cores", "proxy CPU (cores)", false, null),
            new Row("stream", "proxy_kernel_share", "proxy CPU share in the kernel", false, null),
            new Row("churn", "sessions_per_s", "sessions/s", true, new Goal("nginx", 1.0, true, "≥ nginx")),
            new Row("churn", "proxy_cpu_cores", "proxy CPU (cores)", false, null),
            new Row("churn", "proxy_cpu_us_per_unit", "proxy CPU per session (µs)", false, null),
            new Row("churn", "proxy_kernel_share", "proxy CPU share in the kernel", false, null),
            new Row("churn", "proxy_switches_per_unit", "proxy context switches per session", false, null),
            new Row("idle", "rss_kib_per_session", "RSS per session, after GC (KiB)", false,
                    new Goal("absolute", 8.0, false, "≤ 8 KiB")),
            new Row("idle", "rss_kib_per_session_before_gc", "RSS per session, before GC (KiB)", false, null),
            new Row("idle", "heap_kib_per_session", "live heap per session (KiB)", false, null),
            new Row("idle", "rss_start_mib", "RSS at start, before the warm-up batch (MiB)", false, null),
            new Row("idle", "rss_first_load_mib", "RSS change over the warm-up batch (MiB)", false, null),
            new Row("idle", "rss_base_mib", "RSS baseline, after the warm-up batch (MiB)", false, null),
            new Row("idle", "rss_open_mib", "RSS with sessions open, after GC (MiB)", false, null),
            new Row("idle", "rss_closed_mib", "RSS after all closed (MiB)", false, null),
            new Row("idle", "rss_after_close_growth_mib", "RSS growth after all closed (MiB)", false, null),
            new Row("idle", "netty_direct_base_mib", "Netty direct memory baseline (MiB)", false, null),
            new Row("idle", "netty_direct_open_mib", "Netty direct memory, sessions open (MiB)", false, null),
            new Row("idle", "netty_direct_closed_mib", "Netty direct memory after all closed (MiB)", false, null));

    /** The opt-in floor target ({@code --netty-floor}). */
    private static final String FLOOR = "netty-tcp";

    private final BenchMain.Settings settings;
    private final int idleSessions;
    private final Map<String, Object> environment;
    private final Jmh.Results jmh;
    private final List<Run> runs;
    private final List<String> notes;
    /** The closewatch target of the summary, floor and guard tables (the first JDK's). */
    private final String cw;

    Report(BenchMain.Settings settings, int idleSessions, Map<String, Object> environment, Jmh.Results jmh,
           List<Run> runs, List<String> notes) {
        this.settings = settings;
        this.idleSessions = idleSessions;
        this.environment = environment;
        this.jmh = jmh;
        this.runs = runs;
        this.notes = notes;
        this.cw = settings.closewatch();
    }

    /** The summary table's targets, in column order. */
    private List<String> targets() {
        return List.of("direct", cw, "nginx", "haproxy");
    }

    private List<Double> values(String scenario, String target, String figure) {
        List<Double> v = new ArrayList<>();
        for (Run r : runs) {
            if (r.scenario().equals(scenario) && r.target().equals(target) && r.figure(figure) != null) {
                v.add(r.figure(figure));
            }
        }
        return v;
    }

    /** closewatch's figure over {@code other}'s, paired by round (they ran back to back). */
    private List<Double> ratios(String scenario, String figure, String other) {
        return ratios(scenario, figure, cw, other);
    }

    /** {@code target}'s figure over {@code other}'s, paired by round. */
    private List<Double> ratios(String scenario, String figure, String target, String other) {
        return ratios(runs, scenario, figure, target, other);
    }

    /** {@code target}'s figure over {@code other}'s in {@code runs}, paired by round. */
    static List<Double> ratios(List<Run> runs, String scenario, String figure, String target, String other) {
        List<Double> v = new ArrayList<>();
        for (Run t : runs) {
            if (!t.scenario().equals(scenario) || !t.target().equals(target) || t.figure(figure) == null) {
                continue;
            }
            for (Run o : runs) {
                if (o.scenario().equals(scenario) && o.target().equals(other) && o.round() == t.round()
                        && o.figure(figure) != null && o.figure(figure) != 0) {
                    v.add(t.figure(figure) / o.figure(figure));
                }
            }
        }
        return v;
    }

    /** Failed sessions and miscounted closes: these make the command fail; figures never do. */
    List<String> problems() {
        List<String> p = new ArrayList<>();
        if (settings.guard() && guardEnforced()) {
            for (GuardCheck g : guardChecks()) {
                if (!g.passed()) {
                    p.add(g.message());
                }
            }
        }
        for (Run r : runs) {
            String at = r.scenario() + " round " + r.round() + " " + r.target();
            if (r.details().get("failures") instanceof Map<?, ?> f && !f.isEmpty()) {
                p.add(at + ": failed sessions " + f);
            }
            if (Boolean.FALSE.equals(r.details().get("closes_match"))) {
                p.add(at + ": closewatch recorded " + r.details().get("closewatch_recorded") + " but the driver sent "
                        + r.details().get("driver_closes_1000") + " × Close 1000 and ended "
                        + r.details().get("driver_ended_without_close") + " sessions without a Close");
            }
            if (r.scenario().equals("idle") && r.details().get("sessions_open") instanceof Integer open
                    && open < idleSessions) {
                p.add(at + ": only " + open + " of " + idleSessions + " idle sessions opened");
            }
        }
        return p;
    }

    String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("# closewatch benchmark report\n\n");
        b.append(String.format(Locale.ROOT, "Mode `%s`, %s round(s), %s s warm-up + %s s measured per run "
                        + "(after one unrecorded %s s pre-warm run per target and scenario); finished in %s s.%n%n",
                settings.mode(), environment.get("rounds"), environment.get("warmup_s"), environment.get("measure_s"),
                environment.get("prewarm_s"), environment.get("duration_s")));
        b.append("**Machine:** ").append(environment.get("cpu")).append(", ").append(environment.get("cores"))
                .append(" cores, ").append(environment.get("memory")).append(" RAM, Linux ")
                .append(environment.get("kernel")).append("; ").append(environment.get("jdk")).append("; Netty ")
                .append(environment.get("netty"));
        if (environment.containsKey("nginx")) {
            b.append("; ").append(environment.get("nginx"));
        }
        if (environment.containsKey("haproxy")) {
            b.append("; ").append(environment.get("haproxy"));
        }
        b.append(". Driver, upstream and proxy share the machine. Load average (1/5/15 min) at the start: ")
                .append(loadavg(environment.get("loadavg_start"))).append(", at the end: ")
                .append(loadavg(environment.get("loadavg_end"))).append(".\n\n");
        if (settings.smoke()) {
            b.append("> Smoke run: seconds-long, to keep the benchmark compiling and running, and the regression guard. Its figures are not measurements.\n\n");
        }
        if (!runs.isEmpty()) {
            summary(b);
            jdks(b);
            nettyFloor(b);
            guard(b);
            closes(b);
        }
        if (!jmh.frames().isEmpty()) {
            jmhTable(b);
        }
        if (jmh.handshake() != null) {
            handshakeTable(b, jmh.handshake());
        }
        setup(b);
        if (!runs.isEmpty()) {
            allRuns(b);
        }
        List<String> problems = problems();
        if (!problems.isEmpty()) {
            b.append("\n## Problems\n\n");
            problems.forEach(p -> b.append("- ").append(p).append('\n'));
        }
        return b.toString();
    }

    private void summary(StringBuilder b) {
        b.append("## End to end\n\n");
        b.append("Each cell: median (min–max) over the rounds. Ratios are closewatch's figure over the other target's "
                + "in the same round, min / median / max; targets are checked on the median ratio.\n\n");
        b.append("| scenario | figure | direct | ").append(cw).append(" | nginx | HAProxy | closewatch/direct | closewatch/nginx "
                + "| closewatch/HAProxy | target | met |\n");
        b.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
        Map<String, Boolean> shown = new LinkedHashMap<>();
        for (Row row : ROWS) {
            String key = row.scenario() + "/" + row.figure();
            boolean hasGoal = row.goal() != null;
            boolean anyGoal = ROWS.stream().anyMatch(r -> (r.scenario() + "/" + r.figure()).equals(key) && r.goal() != null);
            if (!hasGoal && anyGoal) {
                continue; // the row with the goal shows the figure
            }
            if (values(row.scenario(), cw, row.figure()).isEmpty()
                    && values(row.scenario(), "nginx", row.figure()).isEmpty()) {
                continue;
            }
            boolean first = shown.put(key, true) == null;
            StringBuilder line = new StringBuilder("| ").append(row.scenario()).append(" | ").append(row.label()).append(" | ");
            for (String t : targets()) {
                Stats s = Stats.of(values(row.scenario(), t, row.figure()));
                line.append(first ? cell(s) : "″").append(" | ");
            }
            // A growth near zero makes a ratio meaningless.
            boolean ratiosMeaningful = !row.figure().contains("growth");
            Stats rd = Stats.of(ratiosMeaningful ? ratios(row.scenario(), row.figure(), "direct") : List.of());
            Stats rn = Stats.of(ratiosMeaningful ? ratios(row.scenario(), row.figure(), "nginx") : List.of());
            Stats rh = Stats.of(ratiosMeaningful ? ratios(row.scenario(), row.figure(), "haproxy") : List.of());
            line.append(first ? ratioCell(rd) : "″").append(" | ").append(first ? ratioCell(rn) : "″").append(" | ")
                    .append(first ? ratioCell(rh) : "″").append(" | ");
            if (hasGoal) {
                line.append(row.goal().text()).append(" | ").append(verdict(row)).append(" |");
            } else {
                line.append(" | |");
            }
            b.append(line).append('\n');
        }
        b.append('\n');
    }

    /** The {@code --netty-floor} target beside closewatch and nginx, when it ran. */
    private void nettyFloor(StringBuilder b) {
        if (runs.stream().noneMatch(r -> r.target().equals(FLOOR))) {
            return;
        }
        b.append("## Netty floor\n\n");
        b.append("`netty-tcp`: a blind Netty TCP relay (no HTTP, no frame observer, no metrics; closewatch's transport, "
                + "threads, water marks, read buffers and JVM options). What closewatch costs beyond it is closewatch's "
                + "own work; what it costs beyond nginx, down to it, is Netty's and the JVM's. Median (min–max) over the "
                + "rounds; ratios paired by round, min / median / max.\n\n");
        b.append("| scenario | figure | netty-tcp | closewatch/netty-tcp | nginx/netty-tcp | HAProxy/netty-tcp |\n");
        b.append("|---|---|---:|---:|---:|---:|\n");
        Set<String> shown = new HashSet<>();
        for (Row row : ROWS) {
            String key = row.scenario() + "/" + row.figure();
            if (!shown.add(key) || values(row.scenario(), FLOOR, row.figure()).isEmpty()) {
                continue;
            }
            b.append("| ").append(row.scenario()).append(" | ").append(row.label()).append(" | ")
                    .append(cell(Stats.of(values(row.scenario(), FLOOR, row.figure())))).append(" | ")
                    .append(ratioCell(Stats.of(ratios(row.scenario(), row.figure(), cw, FLOOR)))).append(" | ")
                    .append(ratioCell(Stats.of(ratios(row.scenario(), row.figure(), "nginx", FLOOR)))).append(" | ")
                    .append(ratioCell(Stats.of(ratios(row.scenario(), row.figure(), "haproxy", FLOOR)))).append(" |\n");
        }
        b.append('\n');
    }

    private String verdict(Row row) {
        Goal g = row.goal();
        double value;
        if (g.against().equals("absolute")) {
            Stats s = Stats.of(values(row.scenario(), cw, row.figure()));
            if (!s.present()) {
                return "n/a";
            }
            value = s.median();
        } else {
            Stats s = Stats.of(ratios(row.scenario(), row.figure(), g.against()));
            if (!s.present()) {
                return "n/a";
            }
            value = s.median();
        }
        boolean met = g.atLeast() ? value >= g.bound() : value <= g.bound();
        if (met) {
            return "**yes**";
        }
        double by = g.atLeast() ? (g.bound() - value) / g.bound() : (value - g.bound()) / g.bound();
        return String.format(Locale.ROOT, g.atLeast() ? "**no**, short by %.1f%%" : "**no**, over by %.1f%%", by * 100);
    }

    private void closes(StringBuilder b) {
        List<Run> cw = runs.stream().filter(r -> r.target().startsWith("closewatch") && r.details().containsKey("closes_match"))
                .toList();
        if (cw.isEmpty()) {
            return;
        }
        b.append("## Closes counted by closewatch\n\n");
        b.append("What the driver did (Close 1000 sent by the client; sessions ended without a Close) beside the "
                + "increase of `closewatch_closes_total` by `code/initiator` over the run (warm-up and drain included). "
                + "They must match exactly.\n\n");
        b.append("| scenario | round | target | driver: Close 1000 | driver: no Close | closewatch recorded | match |\n");
        b.append("|---|---:|---|---:|---:|---|---|\n");
        for (Run r : cw) {
            b.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %s |%n", r.scenario(), r.round(), r.target(),
                    r.details().get("driver_closes_1000"), r.details().get("driver_ended_without_close"),
                    r.details().get("closewatch_recorded"),
                    Boolean.TRUE.equals(r.details().get("closes_match")) ? "yes" : "**NO**"));
        }
        boolean churnOk = cw.stream().filter(r -> r.scenario().equals("churn"))
                .allMatch(r -> Boolean.TRUE.equals(r.details().get("closes_match")));
        b.append("\nChurn target (every close counted under the right code): ").append(churnOk ? "**yes**" : "**no**")
                .append(".\n\n");
    }

    private void jmhTable(StringBuilder b) {
        b.append("## Frame observer (JMH)\n\n");
        b.append("`FrameObserver.observe` over well-formed binary frames in direct buffers; one operation = one frame. "
                + "`whole`: each frame in its own buffer; `split61`: the same stream in 61-byte reads. MB/s counts wire bytes "
                + "(header, masking key, payload). Allocation from JMH's gc profiler (`gc.alloc.rate.norm`).\n\n");
        b.append("| frame | masked | feed | ns/frame | ± (99.9%) | MB/s | B allocated/frame |\n");
        b.append("|---|---|---|---:|---:|---:|---:|\n");
        for (Jmh.Row r : jmh.frames()) {
            b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s |%n", frameLabel(r.size()),
                    r.masked() ? "yes" : "no", r.feed(), num(r.nsPerFrame()), num(r.error()),
                    num(r.bytesPerSecond() / 1e6), num(r.allocPerFrame())));
        }
        Predicate<Jmh.Row> smallWhole = r -> r.size().equals("small") && r.feed().equals("whole");
        double worstSmall = jmh.frames().stream().filter(smallWhole).mapToDouble(Jmh.Row::nsPerFrame).max().orElse(Double.NaN);
        double worstAlloc = jmh.frames().stream().mapToDouble(Jmh.Row::allocPerFrame).max().orElse(Double.NaN);
        b.append(String.format(Locale.ROOT, "%nTargets: ≤ 10 ns per small frame (worst small/whole: %s ns) — %s; "
                        + "no allocation for non-Close frames (worst: %s B/frame) — %s.%n%n",
                num(worstSmall), worstSmall <= 10 ? "**yes**" : String.format(Locale.ROOT, "**no**, over by %.0f%%", (worstSmall - 10) * 10),
                num(worstAlloc), worstAlloc < 1 ? "**yes**" : "**no**"));
    }

    private static void handshakeTable(StringBuilder b, Jmh.Handshake h) {
        b.append("## Handshake in isolation (JMH)\n\n");
        b.append("`HandshakeBench`: one whole proxied session over `EmbeddedChannel`s, no system calls: the upgrade "
                + "request decoded, checked, routed and forwarded with its `X-Forwarded-*` lines, the 101 checked and "
                + "relayed, both pipelines switched to the relay, a Close each way, both connections closed, the session's "
                + "end recorded. closewatch's user-space work per churned session (plus `EmbeddedChannel`'s own, about a "
                + "third), measured alone and warm; in the churn scenario the same code runs between system calls, with "
                + "colder caches. Bytes allocated per session are exact enough to compare two builds.\n\n");
        b.append("| µs/session | ± (99.9%) | B allocated/session |\n|---:|---:|---:|\n");
        b.append(String.format(Locale.ROOT, "| %s | %s | %s |%n%n", num(h.nsPerSession() / 1000), num(h.error() / 1000),
                num(h.allocPerSession())));
    }

    /** Every figure per closewatch variant (JDK or build), and each one's ratio to the first, paired by round. */
    private void jdks(StringBuilder b) {
        List<String> cws = settings.closewatchTargets();
        if (cws.size() < 2) {
            return;
        }
        b.append("## The JDK and builds\n\n");
        b.append("closewatch on each JDK (`--closewatch-java`) and build (`--closewatch-jar`), interleaved in the same rounds. "
                + "Median (min–max) over the rounds; ratios are each variant's figure over ").append(cw).append("'s in the same round, min / median / max "
                + "(higher is better for rates, lower for CPU, latency and memory).\n\n");
        StringBuilder head = new StringBuilder("| scenario | figure |");
        StringBuilder rule = new StringBuilder("|---|---|");
        for (String t : cws) {
            head.append(' ').append(t).append(" |");
            rule.append("---:|");
        }
        for (String t : cws.subList(1, cws.size())) {
            head.append(' ').append(shortName(t)).append('/').append(shortName(cw)).append(" |");
            rule.append("---:|");
        }
        b.append(head).append('\n').append(rule).append('\n');
        Set<String> shown = new HashSet<>();
        for (Row row : ROWS) {
            String key = row.scenario() + "/" + row.figure();
            if (!shown.add(key) || values(row.scenario(), cw, row.figure()).isEmpty()) {
                continue;
            }
            b.append("| ").append(row.scenario()).append(" | ").append(row.label()).append(" |");
            for (String t : cws) {
                b.append(' ').append(cell(Stats.of(values(row.scenario(), t, row.figure())))).append(" |");
            }
            boolean ratiosMeaningful = !row.figure().contains("growth");
            for (String t : cws.subList(1, cws.size())) {
                b.append(' ').append(ratiosMeaningful ? ratioCell(Stats.of(ratios(row.scenario(), row.figure(), t, cw))) : "—")
                        .append(" |");
            }
            b.append('\n');
        }
        b.append('\n');
    }

    private static String shortName(String target) {
        return target.startsWith("closewatch-") ? target.substring("closewatch-".length()) : target;
    }

    /**
     * One check of the regression guard: the subject's figure over {@code netty-tcp}'s, paired by
     * round, median over the rounds, against the floor.
     */
    record GuardCheck(String scenario, String figure, String subject, double floor, Stats ratio, boolean passed,
                      String message) {
    }

    /** The guard's checks for the scenarios that ran with {@code netty-tcp}; empty without {@code --netty-floor}. */
    List<GuardCheck> guardChecks() {
        List<GuardCheck> checks = new ArrayList<>();
        String subject = settings.guardSubject();
        for (Map.Entry<String, Double> e : new java.util.TreeMap<>(BenchMain.GUARD).entrySet()) {
            String[] sf = e.getKey().split("/");
            Stats r = Stats.of(ratios(sf[0], sf[1], subject, FLOOR));
            if (!r.present()) {
                continue;
            }
            boolean passed = r.median() >= e.getValue();
            String message = String.format(Locale.ROOT, "regression guard: %s/%s on %s %s is %.2f (median of %d rounds, "
                            + "%.2f–%.2f), %s the floor of %.2f", subject, FLOOR, sf[0], sf[1], r.median(), r.n(), r.min(),
                    r.max(), passed ? "above" : "BELOW", e.getValue());
            checks.add(new GuardCheck(sf[0], sf[1], subject, e.getValue(), r, passed, message));
        }
        return checks;
    }

    /** Whether the machine was quiet enough for the guard to fail the command (see {@link BenchMain#GUARD_MAX_LOAD_PER_CORE}). */
    boolean guardEnforced() {
        return !(environment.get("max_loadavg_1m") instanceof Double load)
                || load <= BenchMain.GUARD_MAX_LOAD_PER_CORE * ((Number) environment.get("cores")).doubleValue();
    }

    /** Why the guard did not fail the command although a check is below its floor; null if it did or all passed. */
    String guardWaived() {
        if (!settings.guard() || guardEnforced() || guardChecks().stream().allMatch(GuardCheck::passed)) {
            return null;
        }
        return String.format(Locale.ROOT, "regression guard NOT ENFORCED: the 1-minute load average reached %.1f on %s cores "
                        + "(the guard fails the command only up to %.0f per core); its checks below the floor were not judged",
                environment.get("max_loadavg_1m"), environment.get("cores"), BenchMain.GUARD_MAX_LOAD_PER_CORE);
    }

    private void guard(StringBuilder b) {
        List<GuardCheck> checks = guardChecks();
        if (!settings.guard() || checks.isEmpty()) {
            return;
        }
        b.append("## Regression guard\n\n");
        if (guardWaived() != null) {
            b.append("**").append(guardWaived()).append(".**\n\n");
        }
        b.append("`").append(settings.guardSubject()).append("`'s figure over `netty-tcp`'s in the same round, median over the "
                + "rounds; the command fails below the floor.\n\n");
        b.append("| scenario | figure | ratio min / median / max | rounds | floor | passed |\n|---|---|---:|---:|---:|---|\n");
        for (GuardCheck g : checks) {
            b.append(String.format(Locale.ROOT, "| %s | %s | %s | %d | %.2f | %s |%n", g.scenario(), g.figure(),
                    ratioCell(g.ratio()), g.ratio().n(), g.floor(), g.passed() ? "yes" : "**NO**"));
        }
        b.append('\n');
    }

    private static String loadavg(Object proc) {
        String[] f = String.valueOf(proc).split(" ");
        return f.length >= 3 ? f[0] + " / " + f[1] + " / " + f[2] : String.valueOf(proc);
    }

    private static String frameLabel(String size) {
        return switch (size) {
            case "small" -> "small (125 B)";
            case "medium" -> "medium (4 KiB)";
            case "large" -> "large (64 KiB)";
            default -> size;
        };
    }

    private void setup(StringBuilder b) {
        b.append("## Setup\n\n");
        if (runs.isEmpty()) {
            // JMH only: no proxy ran, and nothing was probed (the HAProxy version among them).
            b.append("- **Load scenarios:** none run (`--only jmh`).\n");
        } else {
            loadSetup(b);
        }
        for (String n : notes) {
            b.append("- ").append(n).append('\n');
        }
        b.append('\n');
    }

    /** The load driver, upstream, proxies and scenarios of the setup section. */
    private void loadSetup(StringBuilder b) {
        b.append("- **Load driver:** the benchmark's own Netty (").append(environment.getOrDefault("driver_transport", "epoll"))
                .append(") WebSocket client with HdrHistogram, in the benchmark's JVM: exact counts of messages, bytes and "
                        + "Close frames, one pre-masked frame per connection so the driver's CPU stays out of the comparison.\n");
        b.append("- **Upstream:** the benchmark's own minimal RFC 6455 server in a separate JVM (echo on `/echo`, "
                + "64 KiB binary frames as fast as the connection takes them on `/stream`; answers Close with Close and closes TCP).\n");
        b.append("- **closewatch:** `java ").append(environment.getOrDefault("closewatch_jvm", ""))
                .append(" -jar closewatch.jar run` (one event loop per core, epoll), close line of normal ends off.\n");
        if (settings.closewatchTargets().size() > 1 || !cw.equals("closewatch")) {
            b.append("- **JDKs and builds of closewatch:** ").append(environment.getOrDefault("closewatch_jdks", "")).append(" (the driver, "
                    + "the upstream and `netty-tcp` run on the benchmark's JVM).\n");
        }
        b.append("- **HAProxy:** the Debian package (").append(environment.getOrDefault("haproxy", "?")).append("), `mode http` "
                + "(the 101 turns the connection into a tunnel), default keep-alive mode (no `http-server-close`), "
                + "`timeout tunnel 3600s`, `nbthread` = cores, no logging; config in `")
                .append(environment.getOrDefault("haproxy_conf", "haproxy-*/haproxy.cfg")).append("`.\n");
        b.append("- **nginx:** the Debian package, `worker_processes auto`, `proxy_http_version 1.1`, `Upgrade`/`Connection` "
                + "headers, 3600 s read/send timeouts, `access_log off`; config in `")
                .append(environment.getOrDefault("nginx_conf", "nginx-*/nginx.conf")).append("`.\n");
        b.append(String.format(Locale.ROOT, "- **Scenarios:** echo: %d connections, %d B text round trips; stream: %d connections, "
                        + "64 KiB binary frames upstream → client; churn: %d users, open → one %d B echo → Close 1000; idle: %d sessions "
                        + "(fresh proxy process per run; an unrecorded warm-up batch of the same size opened and closed before the "
                        + "baseline; RSS = VmRSS, summed over nginx's master and workers; every reading %d s after a full GC, "
                        + "closewatch's by `jcmd GC.run`, nginx's after the same wait).%n",
                settings.echoConnections(), settings.messageBytes(), settings.streamConnections(), settings.churnUsers(),
                settings.messageBytes(), idleSessions, BenchMain.SETTLE_MS / 1000));
    }

    private void allRuns(StringBuilder b) {
        b.append("## Every run\n\n");
        b.append("| scenario | round | target | figures |\n|---|---:|---|---|\n");
        for (Run r : runs) {
            StringBuilder f = new StringBuilder();
            r.figures().forEach((k, v) -> f.append(k).append('=').append(num(v)).append(' '));
            b.append("| ").append(r.scenario()).append(" | ").append(r.round()).append(" | ").append(r.target())
                    .append(" | ").append(f.toString().trim()).append(" |\n");
        }
    }

    private static String cell(Stats s) {
        if (!s.present()) {
            return "—";
        }
        if (s.n() == 1) {
            return num(s.median());
        }
        return num(s.median()) + " (" + num(s.min()) + "–" + num(s.max()) + ")";
    }

    private static String ratioCell(Stats s) {
        if (!s.present()) {
            return "—";
        }
        if (s.n() == 1) {
            return String.format(Locale.ROOT, "%.2f", s.median());
        }
        return String.format(Locale.ROOT, "%.2f / **%.2f** / %.2f", s.min(), s.median(), s.max());
    }

    static String num(double v) {
        if (Double.isNaN(v)) {
            return "—";
        }
        double a = Math.abs(v);
        if (a >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    Map<String, Object> json() {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("environment", environment);
        j.put("settings", Map.of("mode", settings.mode(), "rounds", settings.rounds(),
                "warmup_ms", settings.warmup().toMillis(), "measure_ms", settings.measure().toMillis(),
                "idle_sessions", idleSessions, "closewatch_jvm", settings.closewatchJvm()));
        List<Map<String, Object>> summary = new ArrayList<>();
        for (Row row : ROWS) {
            if (row.goal() == null && ROWS.stream().anyMatch(r -> r.figure().equals(row.figure())
                    && r.scenario().equals(row.scenario()) && r.goal() != null)) {
                continue;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("scenario", row.scenario());
            m.put("figure", row.figure());
            for (String t : targets()) {
                m.put(t, Stats.of(values(row.scenario(), t, row.figure())));
            }
            m.put("closewatch_over_direct", Stats.of(ratios(row.scenario(), row.figure(), "direct")));
            m.put("closewatch_over_nginx", Stats.of(ratios(row.scenario(), row.figure(), "nginx")));
            m.put("closewatch_over_haproxy", Stats.of(ratios(row.scenario(), row.figure(), "haproxy")));
            for (String other : settings.closewatchTargets().subList(1, settings.closewatchTargets().size())) {
                m.put(other, Stats.of(values(row.scenario(), other, row.figure())));
                m.put(other + "_over_" + cw, Stats.of(ratios(row.scenario(), row.figure(), other, cw)));
            }
            if (row.goal() != null) {
                m.put("target", row.goal().text());
                m.put("met", verdict(row).startsWith("**yes"));
            }
            summary.add(m);
        }
        j.put("summary", summary);
        j.put("guard", guardChecks());
        j.put("jmh", jmh.frames());
        j.put("jmh_handshake", jmh.handshake());
        j.put("runs", runs);
        j.put("problems", problems());
        return j;
    }
}
