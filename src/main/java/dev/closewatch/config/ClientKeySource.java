package dev.closewatch.config;

import static java.util.Objects.requireNonNull;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * Where a client's reconnect key comes from: the client address, or one request header, cookie or
 * query parameter of the opening handshake (a user or device id the application sets).
 *
 * @param kind what to read
 * @param name the header, cookie or query parameter name; "" for {@link Kind#ADDRESS}
 */
public record ClientKeySource(Kind kind, String name) {

    /** What a key is read from. */
    public enum Kind { ADDRESS, HEADER, COOKIE, QUERY }

    /** The client address. */
    public static final ClientKeySource ADDRESS = new ClientKeySource(Kind.ADDRESS, "");

    public ClientKeySource {
        requireNonNull(kind, "kind");
        requireNonNull(name, "name");
    }

    /**
     * Parses {@code address}, {@code header:NAME}, {@code cookie:NAME} or {@code query:NAME}.
     *
     * @throws IllegalArgumentException with the expected shape, for anything else
     */
    public static ClientKeySource parse(String spec) {
        if ("address".equals(spec)) {
            return ADDRESS;
        }
        int colon = spec == null ? -1 : spec.indexOf(':');
        String name = colon < 0 ? "" : spec.substring(colon + 1);
        if (colon > 0 && name.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}")) {
            switch (spec.substring(0, colon)) {
                case "header":
                    return new ClientKeySource(Kind.HEADER, name);
                case "cookie":
                    return new ClientKeySource(Kind.COOKIE, name);
                case "query":
                    return new ClientKeySource(Kind.QUERY, name);
                default:
                    break;
            }
        }
        throw new IllegalArgumentException("'" + spec + "' (expected: address, header:NAME, cookie:NAME or query:NAME)");
    }

    /**
     * The key of one opening handshake, or null when the request lacks the value (such a session
     * is not tracked).
     *
     * @param clientIp the client address without port
     * @param header   a request header's value by name (case-insensitive), null when absent
     * @param query    the request target's query (after {@code ?}, undecoded), or null
     */
    public String extract(String clientIp, Function<String, String> header, String query) {
        switch (kind) {
            case ADDRESS:
                return clientIp;
            case HEADER:
                return emptyToNull(header.apply(name));
            case COOKIE:
                return cookie(header.apply("cookie"));
            default:
                return queryParam(query);
        }
    }

    /** RFC 6265 §4.2.1: {@code cookie-pair *( ";" SP cookie-pair )}. */
    private String cookie(String cookieHeader) {
        if (cookieHeader == null) {
            return null;
        }
        for (String pair : cookieHeader.split(";")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).trim().equals(name)) {
                String v = pair.substring(eq + 1).trim();
                if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
                    v = v.substring(1, v.length() - 1);
                }
                return emptyToNull(v);
            }
        }
        return null;
    }

    private String queryParam(String query) {
        if (query == null) {
            return null;
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String k = eq < 0 ? pair : pair.substring(0, eq);
            if (decode(k).equals(name)) {
                return eq < 0 ? null : emptyToNull(decode(pair.substring(eq + 1)));
            }
        }
        return null;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s;
        }
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
