package dev.closewatch.proxy;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Picks the route for a request: among routes whose path prefix the path starts with and whose
 * host (if any) the Host header names, a route with a host beats one without, then the longest
 * prefix wins.
 */
final class Routes {

    private final List<Route> byPrecedence;

    Routes(List<Route> routes) {
        this.byPrecedence = routes.stream()
                .sorted(Comparator.comparing((Route r) -> r.host() == null)
                        .thenComparing(Comparator.comparingInt((Route r) -> r.pathPrefix().length()).reversed()))
                .toList();
    }

    /** The route for request target {@code uri} and Host header {@code hostHeader} (may be null), or null. */
    Route select(String hostHeader, String uri) {
        int query = uri.indexOf('?');
        String path = query < 0 ? uri : uri.substring(0, query);
        String host = hostName(hostHeader);
        for (Route r : byPrecedence) {
            if (r.matches(host, path)) {
                return r;
            }
        }
        return null;
    }

    /** The route that records events with no request to route by (a failed TLS handshake): the catch-all, else the first. */
    Route fallback() {
        return byPrecedence.stream().filter(r -> r.host() == null && r.pathPrefix().equals("/")).findFirst()
                .orElse(byPrecedence.get(0));
    }

    static String hostName(String hostHeader) {
        if (hostHeader == null) {
            return null;
        }
        String h = hostHeader.trim().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end > 0 ? h.substring(1, end) : h;
        }
        int colon = h.indexOf(':');
        return colon >= 0 ? h.substring(0, colon) : h;
    }

    List<Route> all() {
        return byPrecedence;
    }
}
