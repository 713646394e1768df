package dev.closewatch.config;

import java.util.List;

/**
 * One route.
 *
 * @param name       the {@code route} label on every metric; never taken from the request
 * @param pathPrefix requests whose path starts with it go here (default {@code /})
 * @param host       only requests whose Host header names this host (port ignored, case
 *                   insensitive) match; null for any host. A route with a host wins over one
 *                   without.
 * @param upstream   {@code ws://HOST:PORT[/path]} or {@code wss://…}; or use {@code upstreams}
 * @param upstreams  several upstreams, used round-robin; a connect failure tries the next one,
 *                   and a failed upstream is skipped for {@code upstream.failure_backoff}
 * @param codes      private close codes (4000–4999) of this route's application only; they
 *                   override the top-level {@code codes} for this route
 * @param hostHeader {@code preserve} (default): the client's Host header goes upstream as it is;
 *                   {@code upstream}: Host is set to the connected upstream's {@code host[:port]}
 *                   as written, {@code X-Forwarded-Host} keeps the client's
 */
public record RouteConfig(String name, String pathPrefix, String host, String upstream, List<String> upstreams,
                          List<CustomCodeConfig> codes, String hostHeader) {

    /** {@code host_header: preserve}: the client's Host header is forwarded unchanged. */
    public static final String HOST_HEADER_PRESERVE = "preserve";
    /** {@code host_header: upstream}: the Host header names the upstream as configured. */
    public static final String HOST_HEADER_UPSTREAM = "upstream";

    public RouteConfig {
        hostHeader = hostHeader == null ? HOST_HEADER_PRESERVE : hostHeader;
        pathPrefix = pathPrefix == null ? "/" : pathPrefix;
        upstreams = upstreams == null ? List.of() : List.copyOf(upstreams);
        codes = codes == null ? List.of() : List.copyOf(codes);
    }

    /** A route that preserves the Host header. */
    public RouteConfig(String name, String pathPrefix, String host, String upstream, List<String> upstreams,
                       List<CustomCodeConfig> codes) {
        this(name, pathPrefix, host, upstream, upstreams, codes, null);
    }

    /** A route without codes of its own. */
    public RouteConfig(String name, String pathPrefix, String host, String upstream, List<String> upstreams) {
        this(name, pathPrefix, host, upstream, upstreams, null, null);
    }

    /** The upstreams of this route, in configured order. */
    public List<String> allUpstreams() {
        if (!upstreams.isEmpty()) {
            return upstreams;
        }
        return upstream == null ? List.of() : List.of(upstream);
    }
}
