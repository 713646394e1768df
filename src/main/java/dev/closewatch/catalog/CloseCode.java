package dev.closewatch.catalog;

import static java.util.Objects.requireNonNull;

/**
 * One catalog entry: what a WebSocket close status code (RFC 6455 §7.4) means and what to do
 * about it.
 *
 * <p>An entry describes either a single code ({@code from == to}) or a range rule (e.g.
 * 4000–4999, private use). {@link #label()} is the value of the {@code code} label on
 * {@code closewatch_closes_total}: the decimal code for catalogued codes, {@code 3xxx} and
 * {@code 4xxx} for uncatalogued registered and private codes, {@code invalid} for anything that
 * must not appear in a Close frame. The label set is therefore bounded by the catalog.
 *
 * @param from        first code covered (inclusive), 0–65535
 * @param to          last code covered (inclusive), {@code >= from}
 * @param label       metric label value, see above
 * @param name        human name, e.g. {@code Going Away}
 * @param category    metric category
 * @param severity    decides the log level of the close line
 * @param onWire      whether an endpoint may send this code in a Close frame (false for 1004,
 *                    1005, 1006, 1015 and the invalid ranges)
 * @param reference   where the code is defined, e.g. {@code RFC 6455 §7.4.1}
 * @param description what the code means
 * @param when        when you typically see it
 * @param remedy      what to do about it
 */
public record CloseCode(
        int from,
        int to,
        String label,
        String name,
        Category category,
        Severity severity,
        boolean onWire,
        String reference,
        String description,
        String when,
        String remedy) {

    public CloseCode {
        if (from < 0 || to > 65535 || to < from) {
            throw new IllegalArgumentException("code range: " + from + "-" + to + " (expected: 0 <= from <= to <= 65535)");
        }
        requireNonNull(label, "label");
        requireNonNull(name, "name");
        requireNonNull(category, "category");
        requireNonNull(severity, "severity");
        requireNonNull(reference, "reference");
        requireNonNull(description, "description");
        requireNonNull(when, "when");
        requireNonNull(remedy, "remedy");
    }

    /** Whether this entry describes exactly one code rather than a range rule. */
    public boolean isSingleCode() {
        return from == to;
    }

    /** {@code 1001} for a single code, {@code 4000-4999} for a range. */
    public String rangeText() {
        return isSingleCode() ? Integer.toString(from) : from + "-" + to;
    }
}
