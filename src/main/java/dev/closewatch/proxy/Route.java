package dev.closewatch.proxy;

import dev.closewatch.config.UpstreamUri;
import dev.closewatch.observe.RouteMeters;
import dev.closewatch.websocket.SessionListener;

/**
 * A configured route, resolved: where its requests go and where its sessions are recorded.
 *
 * @param name       the {@code route} label
 * @param pathPrefix requests whose path starts with it match
 * @param upstream   the upstream
 * @param meters     the route's meters
 * @param listener   receives the route's session events
 */
record Route(String name, String pathPrefix, UpstreamUri upstream, RouteMeters meters, SessionListener listener) {

    boolean matches(String path) {
        return path.startsWith(pathPrefix);
    }
}
