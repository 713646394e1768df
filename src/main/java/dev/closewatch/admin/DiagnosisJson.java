package dev.closewatch.admin;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.closewatch.config.DiagnosisConfig;
import dev.closewatch.diagnose.SignatureDetector;
import dev.closewatch.diagnose.reconnect.ReconnectTracker;
import dev.closewatch.diagnose.top.TopOffenders;
import dev.closewatch.websocket.Initiator;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The JSON shapes of {@code GET /api/diagnosis}, {@code GET /api/summary}, {@code GET /api/reconnects}
 * and {@code GET /api/top} (snake_case, in
 * declaration order, written by {@link AdminJson#write}): the wire contract, rename only together
 * with its readers.
 */
final class DiagnosisJson {

    private DiagnosisJson() {
    }

    /**
     * {@code /api/reconnects}: settings, the keys in a reconnect storm now (hashed, never the key),
     * and reconnects since start by the status code that ended the previous session.
     */
    record Reconnects(long windowSeconds, int stormAfter, int keys, int maxKeys, List<StormView> storms,
                      List<PreviousCodeView> byPreviousCode) {

        static Reconnects of(ReconnectTracker.Snapshot s) {
            return new Reconnects(s.window().toSeconds(), s.stormAfter(), s.keys(), s.maxKeys(),
                    s.storms().stream().map(StormView::of).toList(),
                    s.byPreviousCode().stream().map(PreviousCodeView::of).toList());
        }
    }

    /** One storming key: its hash, route, reconnects in a row, last delays (ms, oldest first), seconds since seen. */
    record StormView(String key, String route, @JsonProperty("reconnects_in_a_row") int reconnectsInARow, List<Long> lastDelaysMs, double lastSeenSecondsAgo) {

        static StormView of(ReconnectTracker.Storm s) {
            return new StormView(s.key(), s.route(), s.reconnectsInARow(), s.lastDelaysMillis(),
                    s.lastSeenAgo().toMillis() / 1000.0);
        }
    }

    /**
     * Reconnects after one previous code: how many, the share that waited at least 1 s, and of those
     * with an earlier delay to compare, the share whose delay grew (back-off).
     */
    record PreviousCodeView(String code, long reconnects, @JsonProperty("waited_at_least_1s") long waitedAtLeast1s,
                            @JsonProperty("share_waited_at_least_1s") double shareWaitedAtLeast1s,
                            long comparable, long grew, double shareGrew) {

        static PreviousCodeView of(ReconnectTracker.PreviousCode c) {
            return new PreviousCodeView(c.code(), c.reconnects(), c.waitedAtLeast1s(),
                    share(c.waitedAtLeast1s(), c.reconnects()), c.withPreviousDelay(), c.grew(),
                    share(c.grew(), c.withPreviousDelay()));
        }
    }

    /** {@code /api/top}: the heavy hitters of one dimension and category (null = all) over the window. */
    record Top(String by, String category, long windowSeconds, long sessions, long maximumError, List<EntryView> top) {

        static Top of(TopOffenders.Top t) {
            return new Top(t.by().label(), t.category() == null ? null : t.category().label(), t.window().toSeconds(),
                    t.sessions(), t.maximumError(), t.entries().stream().map(EntryView::of).toList());
        }
    }

    /** One heavy hitter: the value, its estimated session ends, and the bounds of the true count. */
    record EntryView(String value, long count, long lowerBound, long upperBound) {

        static EntryView of(TopOffenders.Entry e) {
            return new EntryView(e.value(), e.estimate(), e.lowerBound(), e.upperBound());
        }
    }

    /**
     * {@code /api/diagnosis}: the signature settings and timeout signatures found now (as
     * {@link AdminJson.Diagnosis}), then the reconnect storms now, so one answer lists every "why"
     * the instance sees; {@code /api/reconnects} keeps its own shape.
     */
    record Diagnosis(long windowSeconds, int minCount, double minShare, long toleranceMs, double toleranceRatio,
                     List<AdminJson.SignatureView> signatures, long reconnectWindowSeconds, int stormAfter,
                     List<StormView> storms) {

        static Diagnosis of(SignatureDetector detector, ReconnectTracker.Snapshot reconnects) {
            DiagnosisConfig c = detector.config();
            return new Diagnosis(c.window().toSeconds(), c.minCount(), c.minShare(), c.tolerance().toMillis(),
                    c.toleranceRatio(), detector.signatures().stream().map(AdminJson.SignatureView::of).toList(),
                    reconnects.window().toSeconds(), reconnects.stormAfter(),
                    reconnects.storms().stream().map(StormView::of).toList());
        }
    }

    /**
     * {@code /api/summary}: the session ends of the last {@code window_seconds} up to {@code until}
     * (ISO-8601 UTC) by status code, most first, and the sessions open now.
     */
    record Summary(long windowSeconds, String until, int openSessions, long closes, List<CodeCountView> byCode) {

        static Summary of(Duration window, Instant until, int openSessions, List<CloseWindow.CodeCount> counts) {
            return new Summary(window.toSeconds(), until.toString(), openSessions,
                    counts.stream().mapToLong(CloseWindow.CodeCount::total).sum(),
                    counts.stream().map(CodeCountView::of).toList());
        }
    }

    /**
     * One code's ends in the window: the {@code code} label (as {@code closewatch_closes_total}),
     * the catalog's name, category, severity, meaning and remedy, and the count in total and by
     * initiator.
     */
    record CodeCountView(String code, String name, String category, String severity, String description,
                         String remedy, long count, long client, long upstream, long proxy) {

        static CodeCountView of(CloseWindow.CodeCount c) {
            return new CodeCountView(c.code().label(), c.code().name(), c.code().category().label(),
                    c.code().severity().label(), c.code().description(),
                    c.code().remedy(), c.total(), c.of(Initiator.CLIENT), c.of(Initiator.UPSTREAM), c.of(Initiator.PROXY));
        }
    }

    private static double share(long part, long whole) {
        return whole == 0 ? 0.0 : Math.round(1000.0 * part / whole) / 1000.0;
    }
}
