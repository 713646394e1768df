package dev.closewatch.diagnose.reconnect;

import static java.util.Objects.requireNonNull;

import dev.closewatch.catalog.Category;
import dev.closewatch.catalog.CloseCode;
import dev.closewatch.config.ReconnectConfig;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * Remembers, per client key, how its last session ended, and judges each new session of the key:
 * a session opened within {@code reconnect.window} of the key's previous session's end is a
 * <em>reconnect</em> (delay histogram and counter in {@link ReconnectMeters}); {@code storm_after}
 * reconnects in a row after abnormal (1006) or server-side closes (initiator {@code upstream} or
 * {@code proxy}) whose delays do not grow put the key in a <em>reconnect storm</em> until it
 * backs off, reconnects after a clean close of its own, or stays away for a window.
 *
 * <p>A delay <em>grows</em> when it is at least 1.5 times the previous one and at least 100 ms
 * longer: exponential back-off (factor 2 from 100 ms) grows, an immediate retry with tens of
 * milliseconds of jitter does not.
 *
 * <p>Keys are never stored: each is reduced to the first 8 bytes of SHA-256 over a random
 * per-process salt and the key, so a dictionary of IPv4 addresses cannot reverse them. At most
 * {@code max_keys} keys are kept, the least recently seen evicted first; the memory per key is
 * measured in {@code ReconnectTrackerMemoryTest}.
 *
 * <p>Thread-safe: the event loops call {@link #opened} and {@link #closed}, the admin thread
 * {@link #snapshot}; every method holds the tracker's lock for a short map operation.
 */
public final class ReconnectTracker {

    /** A delay grows when it is at least the previous one times this, and {@link #GROWTH_MIN_NANOS} longer. */
    static final double GROWTH = 1.5;
    /** Jitter of immediate retries (tens of milliseconds) is no back-off. */
    static final long GROWTH_MIN_NANOS = 100_000_000L;
    /**
     * How long before a recorded end a session of the same key may have opened and still be that
     * client's reconnect (delay 0): the old connection's end and the new connection's 101 are
     * handled on different event loops, so a busy loop can record the end after the 101 it
     * preceded.
     */
    static final long END_RACE_NANOS = 100_000_000L;
    private static final long NONE = Long.MIN_VALUE;

    private final ReconnectConfig config;
    private final ReconnectMeters meters;
    private final LongSupplier nanoClock;
    private final long windowNanos;
    private final int stormAfter;
    private final byte[] salt = new byte[16];
    private final MessageDigest sha256;
    private final LinkedHashMap<Long, KeyState> keys;
    /** The keys now in a storm: a subset of {@link #keys}, scanned for expiry. */
    private final Map<Long, KeyState> storms = new HashMap<>();
    private final Map<String, CodeStats> byPreviousCode = new TreeMap<>();

    /**
     * @param nanoClock monotonic clock in nanoseconds ({@code System::nanoTime} outside tests)
     */
    public ReconnectTracker(ReconnectConfig config, ReconnectMeters meters, LongSupplier nanoClock) {
        this.config = requireNonNull(config, "config");
        this.meters = requireNonNull(meters, "meters");
        this.nanoClock = requireNonNull(nanoClock, "nanoClock");
        this.windowNanos = config.window().toNanos();
        this.stormAfter = config.stormAfter();
        int maxKeys = config.maxKeys();
        this.keys = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, KeyState> eldest) {
                if (size() > maxKeys) {
                    storms.remove(eldest.getKey());
                    return true;
                }
                return false;
            }
        };
        new SecureRandom().nextBytes(salt);
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
        meters.stormClients(this::stormClients);
    }

    /** The settings this tracker runs with. */
    public ReconnectConfig config() {
        return config;
    }

    /**
     * A session of {@code key} opened on {@code route} (its 101 passed). A null key (the request
     * lacked the configured header, cookie or parameter) is not tracked.
     */
    public void opened(String route, String key) {
        requireNonNull(route, "route");
        if (key == null) {
            return;
        }
        meters.route(route);
        long now = nanoClock.getAsLong();
        Reconnect r;
        synchronized (this) {
            long hash = hash(key);
            KeyState s = keys.get(hash);
            if (s == null) {
                s = new KeyState(route, now);
                keys.put(hash, s);
            }
            s.lastSeen = now;
            s.route = route;
            s.open++;
            if (s.previous == null) {
                // No end recorded yet: another session of the same key (a NAT, a second tab), or
                // the client came back before the proxy saw the end of its previous session's
                // upstream leg; closed() then matches it.
                s.pendingOpen = now;
                return;
            }
            r = judge(hash, s, route, now);
        }
        if (r != null) {
            meters.reconnect(r.route, r.previous, r.delay);
        }
    }

    /**
     * The session of {@code key} ended with {@code event}; a null key is not tracked.
     *
     * @param clientClosedNanos when the client's connection ended, on this tracker's nano clock:
     *                          the client's view of the end, which a reconnect delay counts from
     */
    public void closed(String key, CloseEvent event, long clientClosedNanos) {
        requireNonNull(event, "event");
        if (key == null) {
            return;
        }
        long now = nanoClock.getAsLong();
        Reconnect r = null;
        synchronized (this) {
            long hash = hash(key);
            KeyState s = keys.get(hash);
            if (s == null) {
                s = new KeyState(event.route(), now);
                keys.put(hash, s);
            }
            s.lastSeen = now;
            s.open = Math.max(0, s.open - 1);
            s.endedAt = Math.min(clientClosedNanos, now);
            s.previous = event.classification();
            s.afterTrouble = event.classification().category() == Category.ABNORMAL
                    || event.initiator() != Initiator.CLIENT;
            if (!s.afterTrouble) {
                s.lastDelay = -1;
            }
            if (s.pendingOpen != NONE && (s.pendingOpen >= s.endedAt
                    || s.open > 0 && s.pendingOpen >= s.endedAt - END_RACE_NANOS)) {
                // The key's next session opened before this end was recorded: after the end, or
                // (while another session of the key is open, so the pending open is not the
                // ending session's own) at most END_RACE_NANOS before it, a reconnect whose 101
                // won the race.
                r = judge(hash, s, s.route, s.pendingOpen);
            }
            s.pendingOpen = NONE;
        }
        if (r != null) {
            meters.reconnect(r.route, r.previous, r.delay);
        }
    }

    /** A session of {@code s} opened at {@code openedNanos} after its recorded end: a reconnect, or not if too late. */
    private Reconnect judge(long hash, KeyState s, String route, long openedNanos) {
        long d = Math.max(0, openedNanos - s.endedAt);
        CloseCode previous = s.previous;
        s.previous = null;
        s.pendingOpen = NONE;
        if (d > windowNanos) {
            s.streak = 0;
            s.lastDelay = -1;
            leaveStorm(hash, s);
            return null;
        }
        CodeStats stats = byPreviousCode.computeIfAbsent(previous.label(), c -> new CodeStats());
        stats.reconnects++;
        if (d >= 1_000_000_000L) {
            stats.waitedOneSecond++;
        }
        boolean grew = s.lastDelay >= 0 && d >= s.lastDelay * GROWTH && d - s.lastDelay >= GROWTH_MIN_NANOS;
        if (s.lastDelay >= 0) {
            stats.withPreviousDelay++;
            if (grew) {
                stats.grew++;
            }
        }
        if (!s.afterTrouble) {
            s.streak = 0;
            leaveStorm(hash, s);
        } else if (s.streak == 0 || !grew) {
            s.streak++;
        } else {
            s.streak = 1;
            leaveStorm(hash, s);
        }
        s.remember(d, stormAfter);
        s.lastDelay = d;
        if (s.streak >= stormAfter) {
            storms.put(hash, s);
        }
        return new Reconnect(route, previous, Duration.ofNanos(d));
    }

    private record Reconnect(String route, CloseCode previous, Duration delay) {
    }

    /** Client keys of {@code route} now in a reconnect storm. */
    public synchronized int stormClients(String route) {
        expireStorms();
        int n = 0;
        for (KeyState s : storms.values()) {
            if (s.route.equals(route)) {
                n++;
            }
        }
        return n;
    }

    /** Client keys remembered now. */
    public synchronized int size() {
        return keys.size();
    }

    /** The storms now, longest streak first, and the reconnects so far by previous status code. */
    public synchronized Snapshot snapshot() {
        expireStorms();
        long now = nanoClock.getAsLong();
        List<Storm> list = new ArrayList<>(storms.size());
        for (Map.Entry<Long, KeyState> e : storms.entrySet()) {
            KeyState s = e.getValue();
            list.add(new Storm(String.format("%016x", e.getKey()), s.route, s.streak, s.delaysMillis(),
                    Duration.ofNanos(now - s.lastSeen)));
        }
        list.sort(Comparator.comparingInt(Storm::reconnectsInARow).reversed().thenComparing(Storm::key));
        List<PreviousCode> codes = new ArrayList<>();
        byPreviousCode.forEach((code, c) -> codes.add(new PreviousCode(code, c.reconnects, c.waitedOneSecond,
                c.withPreviousDelay, c.grew)));
        return new Snapshot(config.window(), stormAfter, keys.size(), config.maxKeys(), list, codes);
    }

    private void leaveStorm(long hash, KeyState s) {
        storms.remove(hash);
    }

    private void expireStorms() {
        long now = nanoClock.getAsLong();
        for (Iterator<KeyState> it = storms.values().iterator(); it.hasNext();) {
            if (now - it.next().lastSeen > windowNanos) {
                it.remove();
            }
        }
    }

    private long hash(String key) {
        sha256.reset();
        sha256.update(salt);
        byte[] d = sha256.digest(key.getBytes(StandardCharsets.UTF_8));
        long h = 0;
        for (int i = 0; i < 8; i++) {
            h = (h << 8) | (d[i] & 0xff);
        }
        return h;
    }

    /** What is kept per key: about 130 bytes with its map entry (see the class Javadoc). */
    private static final class KeyState {
        String route;
        long lastSeen;
        long endedAt;
        /** How the last session ended; null once a reconnect used it, or before any end. */
        CloseCode previous;
        boolean afterTrouble;
        long lastDelay = -1;
        /** When a session opened with no end to match yet; {@link #NONE} if none. */
        long pendingOpen = NONE;
        /** Sessions of the key open now (opened, not yet ended), at least 0. */
        int open;
        int streak;
        /** The last delays in milliseconds, a ring; allocated at the first reconnect. */
        int[] delays;
        int delayCount;

        KeyState(String route, long now) {
            this.route = route;
            this.lastSeen = now;
        }

        void remember(long delayNanos, int size) {
            if (delays == null) {
                delays = new int[size];
            }
            delays[delayCount++ % delays.length] = (int) Math.min(Integer.MAX_VALUE, delayNanos / 1_000_000L);
        }

        List<Long> delaysMillis() {
            List<Long> out = new ArrayList<>();
            if (delays == null) {
                return out;
            }
            int n = Math.min(delayCount, delays.length);
            for (int i = delayCount - n; i < delayCount; i++) {
                out.add((long) delays[i % delays.length]);
            }
            return out;
        }
    }

    private static final class CodeStats {
        long reconnects;
        long waitedOneSecond;
        long withPreviousDelay;
        long grew;
    }

    /**
     * One client key in a reconnect storm.
     *
     * @param key              the key's salted hash, 16 hex digits (never the key)
     * @param route            the route of its last session
     * @param reconnectsInARow reconnects after abnormal or server-side closes without growing delay
     * @param lastDelaysMillis its last delays, oldest first, in milliseconds
     * @param lastSeenAgo      time since its last open or close
     */
    public record Storm(String key, String route, int reconnectsInARow, List<Long> lastDelaysMillis,
                        Duration lastSeenAgo) {
    }

    /**
     * Reconnects since start by the status code that ended the previous session.
     *
     * @param code              the previous code's label (as in {@code closewatch_closes_total})
     * @param reconnects        reconnects after such a close
     * @param waitedAtLeast1s   of those, how many came 1 s or more after the end
     * @param withPreviousDelay of those, how many had a previous reconnect delay to compare with
     * @param grew              of those, how many waited longer than before (back-off)
     */
    public record PreviousCode(String code, long reconnects, long waitedAtLeast1s, long withPreviousDelay, long grew) {
    }

    /**
     * What {@code GET /api/reconnects} shows.
     *
     * @param window         {@code reconnect.window}
     * @param stormAfter     {@code reconnect.storm_after}
     * @param keys           keys remembered now
     * @param maxKeys        {@code reconnect.max_keys}
     * @param storms         keys in a storm now
     * @param byPreviousCode reconnects since start by previous code
     */
    public record Snapshot(Duration window, int stormAfter, int keys, int maxKeys, List<Storm> storms,
                           List<PreviousCode> byPreviousCode) {
    }
}
