package dev.closewatch.admin;

import static java.util.Objects.requireNonNull;

import dev.closewatch.catalog.CloseCode;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Session ends of the last hour by status-code label and initiator, in one-second slices, for
 * {@code GET /api/summary}: what {@code closewatch report} prints as "closes by code in the last
 * window". The metrics count since start; this answers for a window without a Prometheus server.
 *
 * <p>Memory is bounded: {@value #SLICES} slices, each a map over the bounded {@code code} label
 * set (as {@code closewatch_closes_total}) × 3 initiators, and only slices that saw an end hold a
 * map. Thread-safe; one short lock per session end.
 */
final class CloseWindow implements Consumer<CloseEvent> {

    /** The longest window {@link #counts} answers for. */
    static final Duration MAX_WINDOW = Duration.ofHours(1);
    static final int SLICES = (int) MAX_WINDOW.toSeconds();
    private static final long SLICE_NANOS = 1_000_000_000L;

    private final LongSupplier nanoClock;
    private final long[] sliceSecond = new long[SLICES];
    @SuppressWarnings({"unchecked", "rawtypes"})
    private final Map<String, long[]>[] slices = new Map[SLICES];
    /** The catalog entry each code label was last classified as (for names and meanings). */
    private final Map<String, CloseCode> codes = new HashMap<>();

    CloseWindow(LongSupplier nanoClock) {
        this.nanoClock = requireNonNull(nanoClock, "nanoClock");
        Arrays.fill(sliceSecond, Long.MIN_VALUE);
    }

    @Override
    public void accept(CloseEvent event) {
        String label = event.classification().label();
        long second = Math.floorDiv(nanoClock.getAsLong(), SLICE_NANOS);
        synchronized (this) {
            int slot = Math.floorMod(second, SLICES);
            if (sliceSecond[slot] != second) {
                sliceSecond[slot] = second;
                slices[slot] = null;
            }
            if (slices[slot] == null) {
                slices[slot] = new HashMap<>(8);
            }
            slices[slot].computeIfAbsent(label, k -> new long[Initiator.values().length])[event.initiator().ordinal()]++;
            codes.put(label, event.classification());
        }
    }

    /**
     * The ends of the last {@code window} (whole seconds, this one included), by code label,
     * most first, then by label.
     *
     * @param window 1 s to {@link #MAX_WINDOW}
     * @throws IllegalArgumentException if {@code window} is outside that range
     */
    List<CodeCount> counts(Duration window) {
        long seconds = window.toSeconds();
        if (seconds < 1 || seconds > SLICES) {
            throw new IllegalArgumentException("window: " + window + " (expected: 1s-" + SLICES + "s)");
        }
        long now = Math.floorDiv(nanoClock.getAsLong(), SLICE_NANOS);
        Map<String, long[]> sum = new HashMap<>();
        List<CodeCount> out = new ArrayList<>();
        synchronized (this) {
            for (long s = now - seconds + 1; s <= now; s++) {
                int slot = Math.floorMod(s, SLICES);
                if (sliceSecond[slot] != s || slices[slot] == null) {
                    continue;
                }
                slices[slot].forEach((label, byInitiator) -> {
                    long[] acc = sum.computeIfAbsent(label, k -> new long[byInitiator.length]);
                    for (int i = 0; i < acc.length; i++) {
                        acc[i] += byInitiator[i];
                    }
                });
            }
            sum.forEach((label, byInitiator) -> out.add(new CodeCount(codes.get(label), byInitiator.clone())));
        }
        out.sort(Comparator.comparingLong(CodeCount::total).reversed()
                .thenComparing(c -> c.code().label()));
        return out;
    }

    /** One code label's ends: the catalog entry, and the count per {@link Initiator} (by ordinal). */
    record CodeCount(CloseCode code, long[] byInitiator) {

        long total() {
            long t = 0;
            for (long n : byInitiator) {
                t += n;
            }
            return t;
        }

        long of(Initiator initiator) {
            return byInitiator[initiator.ordinal()];
        }
    }
}
