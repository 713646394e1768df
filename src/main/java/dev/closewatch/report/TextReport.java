package dev.closewatch.report;

import dev.closewatch.config.Durations;
import dev.closewatch.report.FleetReport.CodeCount;
import dev.closewatch.report.FleetReport.Culprit;
import dev.closewatch.report.FleetReport.Evidence;
import dev.closewatch.report.FleetReport.InstanceStatus;
import dev.closewatch.report.FleetReport.ReconnectLine;
import dev.closewatch.report.FleetReport.SignatureLine;
import dev.closewatch.report.FleetReport.Storm;
import dev.closewatch.report.FleetReport.TopEntry;
import dev.closewatch.report.FleetReport.TopList;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * {@link FleetReport} in plain language, one section per question: how many sessions ended and
 * with which codes (and what they mean), which timeout signatures stand out and who likely causes
 * them, whether clients back off when they reconnect, and who causes most bad ends. Every text from
 * the instances (reasons are never included; top-offender values are) has its control characters
 * escaped so it cannot forge lines; only the addresses given on the command line and numbers are
 * printed as they are.
 */
public final class TextReport {

    private TextReport() {
    }

    /** The report as lines ending in {@code \n}. */
    public static String render(FleetReport r) {
        StringBuilder out = new StringBuilder();
        List<String> answered = r.instances().stream().filter(InstanceStatus::answered).map(InstanceStatus::admin).toList();
        out.append("closewatch report: ").append(r.answered()).append(" of ").append(r.asked())
                .append(r.asked() == 1 ? " instance" : " instances").append(" answered");
        if (!answered.isEmpty()) {
            out.append(" (").append(String.join(", ", answered)).append(')');
        }
        out.append(", last ").append(Durations.format(Duration.ofSeconds(r.windowSeconds())))
                .append(" until ").append(r.generatedAt()).append('\n');
        for (InstanceStatus s : r.instances()) {
            if (!s.answered()) {
                out.append("  did not answer: ").append(s.admin()).append(": ").append(clean(s.error())).append('\n');
            }
        }
        out.append('\n');

        out.append("Sessions: ").append(r.closes()).append(" ended in the window, ")
                .append(r.openSessions()).append(" open now.\n");
        if (!r.closesByCode().isEmpty()) {
            out.append("\nCloses by code:\n");
            int nameWidth = r.closesByCode().stream().mapToInt(c -> title(c).length()).max().orElse(0);
            int countWidth = Long.toString(r.closesByCode().get(0).count()).length();
            String row = "  %-7s %-" + nameWidth + "s %" + countWidth + "d  (client %d, upstream %d, proxy %d)%n";
            for (CodeCount c : r.closesByCode()) {
                out.append(String.format(Locale.ROOT, row, clean(c.code()), clean(title(c)), c.count(), c.client(), c.upstream(),
                        c.proxy()));
                out.append("          means: ").append(clean(c.description())).append('\n');
                if (!c.category().equals("normal")) {
                    out.append("          remedy: ").append(clean(c.remedy())).append('\n');
                }
                if (c.byInstance().size() > 1) {
                    out.append("          by instance: ").append(c.byInstance().stream()
                            .map(i -> i.admin() + " " + i.count()).collect(Collectors.joining(", "))).append('\n');
                }
            }
        }

        out.append("\nTimeout signatures: ");
        if (r.signatures().isEmpty()) {
            out.append("none (no value of idle time or lifetime stands out among the abnormal ends).\n");
        } else {
            out.append(r.signatures().size()).append('\n');
            for (SignatureLine s : r.signatures()) {
                out.append(String.format(Locale.ROOT, "  route %s, %s leg: %d of %d abnormal ends after %s %s: %s%n",
                        clean(s.route()), clean(s.leg()), s.count(), s.total(), seconds(s.seconds()),
                        s.kind().equals("idle") ? "idle" : "of lifetime", meaning(s)));
                out.append("    likely culprits: ");
                if (s.culprits().isEmpty()) {
                    out.append("no well-known default matches; look for a timeout of ").append(seconds(s.seconds()))
                            .append(" set on that leg\n");
                } else {
                    out.append(s.culprits().stream().map(TextReport::culprit).collect(Collectors.joining("; "))).append('\n');
                }
                out.append("    remedy: ").append(clean(s.remedy())).append('\n');
                for (Evidence e : s.evidence()) {
                    out.append(String.format(Locale.ROOT, "    seen by %s: %d of %d since %s (%s)%n",
                            e.admin(), e.count(), e.total(), clean(e.since()), seconds(e.seconds())));
                }
            }
        }

        out.append("\nReconnect storms: ");
        if (r.storms().isEmpty()) {
            out.append("none (no client reconnects again and again without backing off).\n");
        } else {
            out.append(r.storms().size()).append(r.storms().size() == 1 ? " client reconnects" : " clients reconnect")
                    .append(" again and again without backing off\n");
            for (Storm s : r.storms()) {
                out.append("  ").append(s.admin()).append(" route ").append(clean(s.route())).append(" client ")
                        .append(clean(s.key())).append(": ").append(s.reconnectsInARow()).append(" reconnects in a row, last delays ")
                        .append(s.lastDelaysMs().stream().map(String::valueOf).collect(Collectors.joining(", ")))
                        .append(" ms\n");
            }
        }

        out.append("\nReconnects by previous code (since each instance started):");
        if (r.reconnectsByPreviousCode().isEmpty()) {
            out.append(" none.\n");
        } else {
            out.append('\n');
            for (ReconnectLine c : r.reconnectsByPreviousCode()) {
                out.append(String.format(Locale.ROOT, "  after %s %s: %d reconnects, %s waited at least 1 s; %s%n",
                        clean(c.code()), clean(c.name()), c.reconnects(), percent(c.shareWaitedAtLeast1s()), backoff(c)));
            }
        }

        out.append("\nTop offenders (last ").append(Durations.format(Duration.ofSeconds(r.topWindowSeconds())))
                .append(", estimated ends):");
        if (r.topOffenders().isEmpty()) {
            out.append(" none (no ends other than normal).\n");
        } else {
            out.append('\n');
            String category = null;
            for (TopList t : r.topOffenders()) {
                if (!t.category().equals(category)) {
                    category = t.category();
                    out.append("  ").append(clean(category)).append(":\n");
                }
                out.append(String.format(Locale.ROOT, "    %-10s ", clean(t.by()))).append(t.entries().stream()
                        .map(TextReport::entry).collect(Collectors.joining(", "))).append('\n');
            }
        }
        return out.toString();
    }

    private static String title(CodeCount c) {
        return c.name() + " [" + c.category() + "]";
    }

    private static String meaning(SignatureLine s) {
        String where = s.leg().equals("client") ? "between the clients and closewatch" : "between closewatch and the upstream";
        return s.kind().equals("idle")
                ? "an idle timeout of about " + seconds(s.seconds()) + " " + where
                : "a maximum connection lifetime of about " + seconds(s.seconds()) + " " + where;
    }

    private static String culprit(Culprit c) {
        return clean(c.product()) + " " + clean(c.setting()) + " (default " + seconds(c.defaultSeconds()) + ")";
    }

    private static String backoff(ReconnectLine c) {
        return switch (c.backoff()) {
            case "yes" -> "delays grew in " + c.grew() + " of " + c.comparable() + ": clients back off";
            case "no" -> "delays grew in " + c.grew() + " of " + c.comparable() + ": clients do not back off";
            default -> "too few reconnects in a row to tell whether delays grow";
        };
    }

    private static String entry(TopEntry e) {
        return clean(e.value()) + " (" + e.count() + ")";
    }

    static String seconds(double seconds) {
        return String.format(Locale.ROOT, "%.1f s", seconds);
    }

    private static String percent(double share) {
        return String.format(Locale.ROOT, "%.0f %%", share * 100);
    }

    /** Control characters as {@code \\uXXXX}: text from the instances stays on its line. */
    static String clean(String text) {
        if (text == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (Character.isISOControl(ch)) {
                b.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
            } else {
                b.append(ch);
            }
        }
        return b.toString();
    }
}
