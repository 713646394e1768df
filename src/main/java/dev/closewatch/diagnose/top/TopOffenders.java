package dev.closewatch.diagnose.top;

import static java.util.Objects.requireNonNull;

import dev.closewatch.catalog.Category;
import dev.closewatch.websocket.SessionFacts;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import org.apache.datasketches.frequencies.ErrorType;
import org.apache.datasketches.frequencies.ItemsSketch;

/**
 * Heavy hitters of session ends: which clients, client networks, {@code User-Agent}s,
 * {@code Origin}s and request paths end most often with each close-code category, over a sliding
 * window. Counting is Apache DataSketches' frequent-items sketch (a Misra–Gries variant with
 * bounded memory and a stated error): one sketch per dimension and category in each of
 * {@link #SLICES} time slices of {@code window / SLICES}; a query merges the slices inside the
 * window, so the window slides in steps of one slice.
 *
 * <p>Each sketch keeps at most {@code 0.75 × }{@link #MAP_SIZE} items; an estimate is at most
 * {@code 3.5 / MAP_SIZE} of the slice's sessions above the true count (the sketch's
 * {@code getMaximumError()}), and never below it. Values longer than {@link #MAX_VALUE_LENGTH}
 * characters are cut. These values are unbounded input: they are never a metric label.
 *
 * <p>Thread-safe (one lock; the event loops record, the admin thread queries).
 */
public final class TopOffenders {

    /** What a session end is counted by. */
    public enum Dimension {
        /** The client address (the real one behind PROXY protocol or trusted {@code X-Forwarded-For}). */
        CLIENT,
        /** The client's /24 (IPv4) or /48 (IPv6) network. */
        NETWORK,
        USER_AGENT,
        ORIGIN,
        /** The request path without the query. */
        PATH;

        /** The {@code by=} value: {@code client}, {@code network}, {@code user_agent}, {@code origin}, {@code path}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /**
         * Parses a {@code by=} value.
         *
         * @throws IllegalArgumentException naming the expected values
         */
        public static Dimension fromLabel(String label) {
            for (Dimension d : values()) {
                if (d.label().equals(label)) {
                    return d;
                }
            }
            throw new IllegalArgumentException("by: '" + label + "' (expected: client, network, user_agent, origin or path)");
        }
    }

    /** Time slices per window. */
    public static final int SLICES = 5;
    /** The sketches' map size (a power of 2). */
    public static final int MAP_SIZE = 256;
    /** Longest value kept, in characters. */
    public static final int MAX_VALUE_LENGTH = 200;

    private static final Pattern LITERAL = Pattern.compile("[0-9A-Fa-f:.]+");
    private static final Pattern ZERO_TAIL = Pattern.compile("(:0)+$");

    private final long sliceNanos;
    private final LongSupplier nanoClock;
    private final Slice[] slices = new Slice[SLICES];

    /**
     * @param window    how far back a query looks (to within one slice)
     * @param nanoClock monotonic clock in nanoseconds ({@code System::nanoTime} outside tests)
     */
    public TopOffenders(Duration window, LongSupplier nanoClock) {
        this.sliceNanos = Math.max(1, requireNonNull(window, "window").toNanos() / SLICES);
        this.nanoClock = requireNonNull(nanoClock, "nanoClock");
    }

    /** Counts one session end of {@code category} under each of its facts that is known. */
    public synchronized void record(SessionFacts facts, Category category) {
        requireNonNull(facts, "facts");
        requireNonNull(category, "category");
        Slice slice = current();
        Map<Dimension, ItemsSketch<String>> sketches = slice.byCategory.computeIfAbsent(category,
                c -> new EnumMap<>(Dimension.class));
        update(sketches, Dimension.CLIENT, facts.clientIp());
        update(sketches, Dimension.NETWORK, network(facts.clientIp()));
        update(sketches, Dimension.USER_AGENT, facts.userAgent());
        update(sketches, Dimension.ORIGIN, facts.origin());
        update(sketches, Dimension.PATH, facts.path());
    }

    /**
     * The most frequent values of {@code by} among the session ends of {@code category} (null: of
     * every category) within the window, highest estimate first.
     *
     * @param limit at most this many entries
     */
    public synchronized Top top(Dimension by, Category category, int limit) {
        requireNonNull(by, "by");
        long now = nanoClock.getAsLong();
        long index = Math.floorDiv(now, sliceNanos);
        ItemsSketch<String> merged = new ItemsSketch<>(MAP_SIZE);
        for (Slice s : slices) {
            if (s == null || index - s.index >= SLICES) {
                continue;
            }
            for (Map.Entry<Category, Map<Dimension, ItemsSketch<String>>> e : s.byCategory.entrySet()) {
                if (category == null || e.getKey() == category) {
                    ItemsSketch<String> sketch = e.getValue().get(by);
                    if (sketch != null) {
                        merged.merge(sketch);
                    }
                }
            }
        }
        List<Entry> entries = new ArrayList<>();
        for (ItemsSketch.Row<String> row : merged.getFrequentItems(ErrorType.NO_FALSE_NEGATIVES)) {
            if (entries.size() >= limit) {
                break;
            }
            entries.add(new Entry(row.getItem(), row.getEstimate(), row.getLowerBound(), row.getUpperBound()));
        }
        return new Top(by, category, Duration.ofNanos(sliceNanos * SLICES), merged.getStreamLength(),
                merged.getMaximumError(), entries);
    }

    /**
     * The /24 of an IPv4 address or the /48 of an IPv6 one, as CIDR ({@code 203.0.113.0/24},
     * {@code 2001:db8:1::/48}); null for anything that is not an address literal.
     */
    public static String network(String ip) {
        if (ip == null || ip.isEmpty()) {
            return null;
        }
        String v4 = ipv4Network(ip);
        if (v4 != null) {
            return v4;
        }
        if (!LITERAL.matcher(ip).matches()) {
            return null; // only literals: InetAddress.getByName would resolve a name
        }
        try {
            byte[] a = InetAddress.getByName(ip).getAddress();
            if (a.length == 4) {
                a[3] = 0;
                return InetAddress.getByAddress(a).getHostAddress() + "/24";
            }
            for (int i = 6; i < a.length; i++) {
                a[i] = 0;
            }
            String s = InetAddress.getByAddress(a).getHostAddress();
            // getHostAddress gives the full form 2001:db8:1:0:0:0:0:0; shorten the zero tail.
            return ZERO_TAIL.matcher(s).replaceFirst("::") + "/48";
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /**
     * The /24 of a dotted-quad IPv4 literal in its usual form (four decimal parts of 0–255, no
     * leading zeros), without a regex or an {@code InetAddress} per close: the common case; null
     * for anything else, which takes the general path.
     */
    private static String ipv4Network(String ip) {
        int parts = 0;
        int value = 0;
        int digits = 0;
        int thirdDot = -1;
        for (int i = 0; i < ip.length(); i++) {
            char c = ip.charAt(i);
            if (c >= '0' && c <= '9') {
                if (digits > 0 && value == 0) {
                    return null; // a leading zero
                }
                value = value * 10 + (c - '0');
                if (++digits > 3 || value > 255) {
                    return null;
                }
            } else if (c == '.' && digits > 0 && parts < 3) {
                parts++;
                if (parts == 3) {
                    thirdDot = i;
                }
                value = 0;
                digits = 0;
            } else {
                return null;
            }
        }
        if (parts != 3 || digits == 0) {
            return null;
        }
        return ip.substring(0, thirdDot) + ".0/24";
    }

    private Slice current() {
        long index = Math.floorDiv(nanoClock.getAsLong(), sliceNanos);
        int at = (int) Math.floorMod(index, (long) SLICES);
        Slice s = slices[at];
        if (s == null || s.index != index) {
            s = new Slice(index);
            slices[at] = s;
        }
        return s;
    }

    private static void update(Map<Dimension, ItemsSketch<String>> sketches, Dimension d, String value) {
        if (value == null || value.isEmpty()) {
            return;
        }
        String v = value.length() > MAX_VALUE_LENGTH ? value.substring(0, MAX_VALUE_LENGTH) : value;
        sketches.computeIfAbsent(d, k -> new ItemsSketch<>(MAP_SIZE)).update(v);
    }

    private static final class Slice {
        final long index;
        final Map<Category, Map<Dimension, ItemsSketch<String>>> byCategory = new EnumMap<>(Category.class);

        Slice(long index) {
            this.index = index;
        }
    }

    /**
     * One heavy hitter.
     *
     * @param value      the client address, network, {@code User-Agent}, {@code Origin} or path
     * @param estimate   estimated session ends
     * @param lowerBound the true count is at least this
     * @param upperBound and at most this
     */
    public record Entry(String value, long estimate, long lowerBound, long upperBound) {
    }

    /**
     * The answer of {@code GET /api/top}.
     *
     * @param by           the dimension
     * @param category     the category, or null for all
     * @param window       the window looked at
     * @param sessions     session ends counted in it (of the category)
     * @param maximumError an estimate is at most this far above the true count
     * @param entries      highest estimate first
     */
    public record Top(Dimension by, Category category, Duration window, long sessions, long maximumError,
                      List<Entry> entries) {
    }
}
