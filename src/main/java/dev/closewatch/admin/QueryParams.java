package dev.closewatch.admin;

import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A request's query parameters, decoded by Netty's {@link QueryStringDecoder} (RFC 3986 §3.4,
 * {@code +} read as a space as in HTML forms, {@code ;} an ordinary character) and checked against
 * the names an endpoint accepts. An empty value ({@code ?code=}) counts as absent.
 */
final class QueryParams {

    /** More parameters than any endpoint takes, so a long query is refused rather than collected. */
    private static final int MAX_PARAMS = 16;

    private final Map<String, String> values;

    private QueryParams(Map<String, String> values) {
        this.values = values;
    }

    /** {@code uri} (a request target) decoded: its path is {@link QueryStringDecoder#path()}. */
    static QueryStringDecoder decoder(String uri) {
        return QueryStringDecoder.builder().semicolonIsNormalChar(true).maxParams(MAX_PARAMS).build(uri);
    }

    /**
     * Parses {@code target}'s query.
     *
     * @throws BadRequest for a name not in {@code allowed}, one given twice, or malformed
     *                    percent-encoding
     */
    static QueryParams parse(QueryStringDecoder target, Set<String> allowed) {
        Map<String, List<String>> decoded;
        try {
            decoded = target.parameters();
        } catch (IllegalArgumentException e) {
            throw new BadRequest("'" + target.rawQuery() + "': malformed percent-encoding in the query");
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> p : decoded.entrySet()) {
            String name = p.getKey();
            if (!allowed.contains(name)) {
                throw new BadRequest("'" + name + "': unknown query parameter (expected one of: "
                        + String.join(", ", allowed.stream().sorted().toList()) + ")");
            }
            if (p.getValue().size() > 1) {
                throw new BadRequest(name + ": given twice (expected: at most once)");
            }
            values.put(name, p.getValue().get(0));
        }
        values.values().removeIf(String::isEmpty);
        return new QueryParams(values);
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
