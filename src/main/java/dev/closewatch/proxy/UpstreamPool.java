package dev.closewatch.proxy;

import dev.closewatch.config.UpstreamUri;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A route's upstreams and the addresses each one's host name resolves to (every A and AAAA
 * record, or every hosts-file entry). Upstreams are taken round-robin, and within an upstream its
 * addresses round-robin too. An address whose connect failed is ejected for the back-off period
 * ({@code upstream.failure_backoff}), each address on its own; an upstream whose name did not
 * resolve is skipped for the same period. Ejected addresses and skipped upstreams are still tried,
 * last, when nothing else is left. Thread-safe; shared by all event loops.
 */
final class UpstreamPool {

    private static final Logger LOG = LoggerFactory.getLogger(UpstreamPool.class);

    /** The most addresses of one upstream tried for one client connection, so a dead fleet answers 502 in bounded time. */
    static final int MAX_ATTEMPTS_PER_UPSTREAM = 3;

    private static final Comparator<InetSocketAddress> ADDRESS_ORDER = Comparator
            .comparingInt((InetSocketAddress a) -> a.getAddress().getAddress().length)
            .thenComparing((InetSocketAddress a) -> a.getAddress().getAddress(), Arrays::compareUnsigned)
            .thenComparingInt(InetSocketAddress::getPort);

    /** One configured upstream: its URI as written and the state of the addresses it resolved to. */
    static final class Upstream {

        private final UpstreamUri uri;
        private final String label;
        /** The addresses of the last resolution, sorted; empty before the first or after a failed one. */
        private volatile List<InetSocketAddress> addresses = List.of();
        private final Map<InetSocketAddress, Long> ejectedUntil = new ConcurrentHashMap<>();
        private volatile long unresolvedUntil;
        private volatile boolean unresolved;
        private final AtomicInteger next = new AtomicInteger();

        private Upstream(UpstreamUri uri) {
            this.uri = uri;
            this.label = uri.toString();
        }

        /** The upstream as configured. */
        UpstreamUri uri() {
            return uri;
        }

        /** The {@code upstream} label: the URI as configured, e.g. {@code ws://chat:9000}; never a resolved address. */
        String label() {
            return label;
        }

        @Override
        public String toString() {
            return label;
        }
    }

    private final List<Upstream> upstreams;
    private final AtomicInteger next = new AtomicInteger();
    private final long backoffNanos;
    private final LongSupplier nanoClock;

    /**
     * @param upstreams    at least one
     * @param backoffNanos how long a failed address (or an upstream that did not resolve) is skipped
     * @param nanoClock    {@link System#nanoTime()}, or a test's clock
     */
    UpstreamPool(List<UpstreamUri> upstreams, long backoffNanos, LongSupplier nanoClock) {
        if (upstreams.isEmpty()) {
            throw new IllegalArgumentException("upstreams: [] (expected: at least one)");
        }
        this.upstreams = upstreams.stream().map(Upstream::new).toList();
        this.backoffNanos = backoffNanos;
        this.nanoClock = nanoClock;
    }

    /**
     * The upstreams to try for one new connection, in order: round-robin from the next one, those
     * with no usable address (every address ejected, or the name did not resolve) after the others.
     */
    List<Upstream> candidates() {
        int n = upstreams.size();
        if (n == 1) {
            // The only upstream is the only order, healthy or not.
            return upstreams;
        }
        int start = Math.floorMod(next.getAndIncrement(), n);
        long now = nanoClock.getAsLong();
        List<Upstream> healthy = new ArrayList<>(n);
        List<Upstream> backingOff = new ArrayList<>(0);
        for (int k = 0; k < n; k++) {
            Upstream u = upstreams.get((start + k) % n);
            (backingOff(u, now) ? backingOff : healthy).add(u);
        }
        healthy.addAll(backingOff);
        return healthy;
    }

    private boolean backingOff(Upstream u, long now) {
        if (u.unresolved) {
            return u.unresolvedUntil - now > 0;
        }
        List<InetSocketAddress> known = u.addresses;
        return !known.isEmpty() && healthyCount(u, known, now) == 0;
    }

    /**
     * Records that {@code upstream}'s name resolved to {@code resolved} and returns the addresses
     * to try for one connection: round-robin from the next one, ejected ones after the others, at
     * most {@value #MAX_ATTEMPTS_PER_UPSTREAM}.
     *
     * @param resolved every address the name resolved to, in any order; not empty
     */
    List<InetSocketAddress> resolved(Upstream upstream, List<InetSocketAddress> resolved) {
        List<InetSocketAddress> sorted = learn(upstream, resolved);
        int n = sorted.size();
        if (n == 1) {
            // One address is tried, ejected or not; the round-robin counter has nothing to turn.
            return sorted;
        }
        int start = Math.floorMod(upstream.next.getAndIncrement(), n);
        long now = nanoClock.getAsLong();
        List<InetSocketAddress> healthy = new ArrayList<>(n);
        List<InetSocketAddress> ejected = new ArrayList<>(0);
        for (int k = 0; k < n; k++) {
            InetSocketAddress a = sorted.get((start + k) % n);
            (isEjected(upstream, a, now) ? ejected : healthy).add(a);
        }
        healthy.addAll(ejected);
        return healthy.size() > MAX_ATTEMPTS_PER_UPSTREAM ? List.copyOf(healthy.subList(0, MAX_ATTEMPTS_PER_UPSTREAM)) : healthy;
    }

    /** Records {@code resolved} as {@code upstream}'s addresses; returns them sorted. */
    private List<InetSocketAddress> learn(Upstream upstream, List<InetSocketAddress> resolved) {
        List<InetSocketAddress> known = upstream.addresses;
        if (!upstream.unresolved && resolved.size() == 1 && known.size() == 1 && known.get(0).equals(resolved.get(0))) {
            // The usual answer, the same one address as last time: nothing to sort or forget.
            return known;
        }
        List<InetSocketAddress> sorted = resolved.stream().distinct().sorted(ADDRESS_ORDER).toList();
        upstream.unresolved = false;
        if (!sorted.equals(upstream.addresses)) {
            upstream.addresses = sorted;
            // Addresses that left the record set are forgotten, so the map stays as small as the fleet.
            upstream.ejectedUntil.keySet().retainAll(sorted);
        }
        return sorted;
    }

    /**
     * Resolves every upstream again on {@code loop}, without blocking it, so the healthy-address
     * gauge follows the records between connections too (at start, then every
     * {@link UpstreamResolver#HOSTS_REFRESH}). A failed resolution here only logs: connections
     * resolve for themselves and count {@code unresolved}.
     */
    void refresh(UpstreamResolver resolver, EventExecutor loop) {
        for (Upstream u : upstreams) {
            resolver.resolveAll(loop, u.uri.address()).addListener(f -> {
                if (f.isSuccess()) {
                    @SuppressWarnings("unchecked")
                    List<InetSocketAddress> found = (List<InetSocketAddress>) f.getNow();
                    learn(u, found);
                } else {
                    LOG.atDebug().addKeyValue("event", "upstream.resolve.failed").addKeyValue("upstream", u.label)
                            .addKeyValue("detail", String.valueOf(f.cause())).log("upstream host name did not resolve");
                }
            });
        }
    }

    /** {@code upstream}'s name did not resolve: no known address, skipped for the back-off period. */
    void unresolved(Upstream upstream) {
        upstream.addresses = List.of();
        upstream.ejectedUntil.clear();
        upstream.unresolvedUntil = nanoClock.getAsLong() + backoffNanos;
        upstream.unresolved = true;
    }

    /** The connect to {@code address} of {@code upstream} failed: ejected for the back-off period. */
    void failed(Upstream upstream, InetSocketAddress address) {
        upstream.ejectedUntil.put(address, nanoClock.getAsLong() + backoffNanos);
    }

    /** {@code address} of {@code upstream} answered: no longer ejected. */
    void succeeded(Upstream upstream, InetSocketAddress address) {
        upstream.ejectedUntil.remove(address);
    }

    /**
     * How many addresses of {@code upstream}'s last resolution are not ejected now: 0 before the
     * first resolution, after a failed one, or while every address is ejected.
     */
    int healthyAddresses(Upstream upstream) {
        return healthyCount(upstream, upstream.addresses, nanoClock.getAsLong());
    }

    private int healthyCount(Upstream u, List<InetSocketAddress> known, long now) {
        int healthy = 0;
        for (InetSocketAddress a : known) {
            if (!isEjected(u, a, now)) {
                healthy++;
            }
        }
        return healthy;
    }

    private static boolean isEjected(Upstream u, InetSocketAddress a, long now) {
        Long until = u.ejectedUntil.get(a);
        return until != null && until - now > 0;
    }

    List<Upstream> all() {
        return upstreams;
    }
}
