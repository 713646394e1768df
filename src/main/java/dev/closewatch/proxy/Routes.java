package dev.closewatch.proxy;

import java.util.Comparator;
import java.util.List;

/** Picks the route for a request: the longest {@code path_prefix} that the path starts with. */
final class Routes {

    private final List<Route> byPrefixLength;

    Routes(List<Route> routes) {
        this.byPrefixLength = routes.stream()
                .sorted(Comparator.comparingInt((Route r) -> r.pathPrefix().length()).reversed())
                .toList();
    }

    /** The route for request target {@code uri}, or null if none matches. */
    Route select(String uri) {
        int query = uri.indexOf('?');
        String path = query < 0 ? uri : uri.substring(0, query);
        for (Route r : byPrefixLength) {
            if (r.matches(path)) {
                return r;
            }
        }
        return null;
    }

    List<Route> all() {
        return byPrefixLength;
    }
}
