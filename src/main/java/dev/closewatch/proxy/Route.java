package dev.closewatch.proxy;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.observe.RouteMeters;
import dev.closewatch.websocket.SessionListener;
import java.util.Locale;

/**
 * A configured route, resolved: which requests it takes, where they go, and where its sessions
 * are recorded.
 *
 * @param name       the {@code route} label
 * @param pathPrefix requests whose path starts with it match
 * @param host       lower-case host name the Host header must name, or null for any
 * @param upstreams  the route's upstreams
 * @param meters     the route's meters
 * @param listener   receives the route's session events
 * @param catalog    classifies the route's close codes (the configuration's codes plus the route's own)
 * @param hostHeaderUpstream {@code host_header: upstream}: the Host header sent upstream names the
 *                   upstream as configured ({@code host[:port]}) instead of the client's
 */
record Route(String name, String pathPrefix, String host, UpstreamPool upstreams, RouteMeters meters,
             SessionListener listener, CloseCatalog catalog, boolean hostHeaderUpstream) {

    /** A route that forwards the client's Host header unchanged. */
    Route(String name, String pathPrefix, String host, UpstreamPool upstreams, RouteMeters meters,
          SessionListener listener, CloseCatalog catalog) {
        this(name, pathPrefix, host, upstreams, meters, listener, catalog, false);
    }

    Route {
        host = host == null ? null : host.toLowerCase(Locale.ROOT);
    }

    /** Whether a request for {@code path} with Host header host name {@code requestHost} (lower case, no port) matches. */
    boolean matches(String requestHost, String path) {
        return path.startsWith(pathPrefix) && (host == null || host.equals(requestHost));
    }
}
