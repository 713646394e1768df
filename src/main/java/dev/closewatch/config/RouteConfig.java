package dev.closewatch.config;

/**
 * One route.
 *
 * @param name       the {@code route} label on every metric; never taken from the request
 * @param pathPrefix requests whose path starts with it go here (default {@code /})
 * @param upstream   {@code ws://HOST:PORT[/path]}
 */
public record RouteConfig(String name, String pathPrefix, String upstream) {

    public RouteConfig {
        pathPrefix = pathPrefix == null ? "/" : pathPrefix;
    }
}
