package dev.closewatch.proxy;

import dev.closewatch.config.UpstreamUri;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

/**
 * A route's upstreams: round-robin, and an upstream whose connect failed is skipped for a back-off
 * period (tried only when every upstream is backing off). Thread-safe; shared by all event loops.
 */
final class UpstreamPool {

    private final List<UpstreamUri> upstreams;
    private final AtomicLongArray downUntil;
    private final AtomicInteger next = new AtomicInteger();
    private final long backoffNanos;
    private final LongSupplier nanoClock;

    /**
     * @param upstreams    at least one
     * @param backoffNanos how long a failed upstream is skipped
     */
    UpstreamPool(List<UpstreamUri> upstreams, long backoffNanos, LongSupplier nanoClock) {
        if (upstreams.isEmpty()) {
            throw new IllegalArgumentException("upstreams: [] (expected: at least one)");
        }
        this.upstreams = List.copyOf(upstreams);
        this.downUntil = new AtomicLongArray(upstreams.size());
        this.backoffNanos = backoffNanos;
        this.nanoClock = nanoClock;
    }

    /**
     * The upstreams to try for one new connection, in order: round-robin from the next one, those
     * backing off after those that are not.
     */
    List<UpstreamUri> candidates() {
        int n = upstreams.size();
        int start = Math.floorMod(next.getAndIncrement(), n);
        long now = nanoClock.getAsLong();
        List<UpstreamUri> healthy = new ArrayList<>(n);
        List<UpstreamUri> backingOff = new ArrayList<>(0);
        for (int k = 0; k < n; k++) {
            int i = (start + k) % n;
            (downUntil.get(i) - now > 0 ? backingOff : healthy).add(upstreams.get(i));
        }
        healthy.addAll(backingOff);
        return healthy;
    }

    /** {@code upstream}'s connect failed: skip it for the back-off period. */
    void failed(UpstreamUri upstream) {
        int i = upstreams.indexOf(upstream);
        if (i >= 0) {
            downUntil.set(i, nanoClock.getAsLong() + backoffNanos);
        }
    }

    /** {@code upstream} answered: stop skipping it. */
    void succeeded(UpstreamUri upstream) {
        int i = upstreams.indexOf(upstream);
        if (i >= 0) {
            downUntil.set(i, 0);
        }
    }

    List<UpstreamUri> all() {
        return upstreams;
    }
}
