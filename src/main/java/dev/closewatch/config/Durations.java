package dev.closewatch.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as the configuration writes them: one or more {@code NUMBER UNIT} parts, largest unit
 * first, units {@code h}, {@code m}, {@code s} and {@code ms} — {@code 250ms}, {@code 10s},
 * {@code 1m30s}, {@code 1h5m}. {@link #format} prints a {@link Duration} back the same way, so a
 * user reads {@code 10s} where Java would print {@code PT10S}.
 */
public final class Durations {

    private static final Pattern WHOLE = Pattern.compile("(?:\\d+(?:ms|h|m|s))+");
    private static final Pattern PART = Pattern.compile("(\\d+)(ms|h|m|s)");
    private static final String[] ORDER = {"h", "m", "s", "ms"};

    private Durations() {
    }

    /**
     * Parses {@code 250ms}, {@code 5s}, {@code 1m30s}, {@code 2h}; each unit at most once, larger
     * units first; {@code 0s} is zero.
     *
     * @throws IllegalArgumentException naming the text and what was expected
     */
    public static Duration parse(String text) {
        String t = text == null ? "" : text.trim().replace(" ", "");
        if (!WHOLE.matcher(t).matches()) {
            throw new IllegalArgumentException(expected(text));
        }
        Matcher m = PART.matcher(t);
        Duration d = Duration.ZERO;
        int last = -1;
        while (m.find()) {
            int unit = java.util.Arrays.asList(ORDER).indexOf(m.group(2));
            if (unit <= last) {
                throw new IllegalArgumentException(expected(text));
            }
            last = unit;
            long n;
            try {
                n = Long.parseLong(m.group(1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(expected(text));
            }
            d = d.plus(switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            });
        }
        return d;
    }

    private static String expected(String text) {
        return "'" + text + "' (expected: a duration such as 250ms, 5s, 1m30s or 1h)";
    }

    /**
     * {@code d} in the configuration's own notation: {@code 0s}, {@code 250ms}, {@code 10s},
     * {@code 1m30s}, {@code 1h}, {@code 1s500ms}; a negative duration gets a leading {@code -};
     * below a millisecond it is rounded down.
     */
    public static String format(Duration d) {
        if (d.isNegative()) {
            return "-" + format(d.negated());
        }
        long ms = d.toMillis();
        if (ms == 0) {
            return "0s";
        }
        StringBuilder b = new StringBuilder();
        long h = ms / 3_600_000;
        long m = ms / 60_000 % 60;
        long s = ms / 1000 % 60;
        long rest = ms % 1000;
        if (h > 0) {
            b.append(h).append('h');
        }
        if (m > 0) {
            b.append(m).append('m');
        }
        if (s > 0) {
            b.append(s).append('s');
        }
        if (rest > 0) {
            b.append(rest).append("ms");
        }
        return b.toString();
    }
}
