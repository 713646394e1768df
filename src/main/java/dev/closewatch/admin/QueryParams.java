package dev.closewatch.admin;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A request's query parameters, checked against the names an endpoint accepts. An empty value
 * ({@code ?code=}) counts as absent.
 */
final class QueryParams {

    private final Map<String, String> values;

    private QueryParams(Map<String, String> values) {
        this.values = values;
    }

    /**
     * Parses {@code uri}'s query.
     *
     * @throws BadRequest for a name not in {@code allowed}, or one given twice
     */
    static QueryParams parse(URI uri, Set<String> allowed) {
        Map<String, String> values = new LinkedHashMap<>();
        String query = uri.getRawQuery();
        if (query != null && !query.isEmpty()) {
            for (String pair : query.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String name = decode(eq < 0 ? pair : pair.substring(0, eq));
                String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
                if (!allowed.contains(name)) {
                    throw new BadRequest("'" + name + "': unknown query parameter (expected one of: "
                            + String.join(", ", allowed.stream().sorted().toList()) + ")");
                }
                if (values.containsKey(name)) {
                    throw new BadRequest(name + ": given twice (expected: at most once)");
                }
                values.put(name, value);
            }
        }
        values.values().removeIf(String::isEmpty);
        return new QueryParams(values);
    }

    private static String decode(String text) {
        try {
            return URLDecoder.decode(text, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new BadRequest("'" + text + "': malformed percent-encoding in the query");
        }
    }

    /** The value of {@code name}, or null if absent or empty. */
    String get(String name) {
        return values.get(name);
    }

    /**
     * The value of {@code name} as an integer in {@code min..max}, or {@code absent}.
     *
     * @throws BadRequest {@code name: 'x' (expected: min-max)}
     */
    int intIn(String name, int min, int max, int absent) {
        String text = values.get(name);
        if (text == null) {
            return absent;
        }
        try {
            int v = Integer.parseInt(text);
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new BadRequest(name + ": '" + text + "' (expected: " + min + "-" + max + ")");
    }

    /** A request the client must fix: answered 400 with {@link #getMessage()}. */
    static final class BadRequest extends RuntimeException {

        BadRequest(String message) {
            super(message, null, false, false);
        }
    }
}
