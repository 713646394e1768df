package dev.closewatch.admin;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.closewatch.diagnose.reconnect.ReconnectTracker;
import dev.closewatch.diagnose.top.TopOffenders;
import java.util.List;

/**
 * The JSON shapes of {@code GET /api/reconnects} and {@code GET /api/top} (snake_case, in
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

    private static double share(long part, long whole) {
        return whole == 0 ? 0.0 : Math.round(1000.0 * part / whole) / 1000.0;
    }
}
