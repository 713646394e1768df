package dev.closewatch.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The whole configuration, bound from YAML ({@code config/closewatch.yaml} documents every key).
 * Absent keys take the defaults given here; {@link #validate()} lists every problem at once, each
 * naming its key path and what was expected.
 *
 * @param listen   proxy listen address, {@code HOST:PORT}
 * @param admin    admin server settings
 * @param upstream upstream timeouts
 * @param limits   HTTP parsing limits for the opening handshake
 * @param routes   at least one route; a request goes to the route with the longest matching
 *                 {@code path_prefix}
 * @param log      close-log settings
 * @param codes    the operator's own private close codes (4000–4999)
 */
public record CloseWatchConfig(
        String listen,
        AdminConfig admin,
        UpstreamConfig upstream,
        LimitsConfig limits,
        List<RouteConfig> routes,
        LogConfig log,
        List<CustomCodeConfig> codes) {

    public static final String DEFAULT_LISTEN = "0.0.0.0:8080";

    public CloseWatchConfig {
        listen = listen == null ? DEFAULT_LISTEN : listen;
        admin = admin == null ? new AdminConfig(null) : admin;
        upstream = upstream == null ? new UpstreamConfig(null, null) : upstream;
        limits = limits == null ? new LimitsConfig(null, null) : limits;
        routes = routes == null ? List.of() : List.copyOf(routes);
        log = log == null ? new LogConfig(null) : log;
        codes = codes == null ? List.of() : List.copyOf(codes);
    }

    /** The defaults, with no route (give one with {@link #withUpstream(String)}). */
    public static CloseWatchConfig defaults() {
        return new CloseWatchConfig(null, null, null, null, null, null, null);
    }

    /** The problems in this configuration, each {@code key.path: 'value' (expected: ...)}; empty if valid. */
    public List<String> validate() {
        List<String> errors = new ArrayList<>();
        check(errors, "listen", () -> HostPort.parse(listen));
        check(errors, "admin.listen", () -> HostPort.parse(admin.listen()));
        positive(errors, "upstream.connect_timeout", upstream.connectTimeout());
        positive(errors, "upstream.response_timeout", upstream.responseTimeout());
        if (limits.maxHeaderSize() < 1024) {
            errors.add("limits.max_header_size: " + limits.maxHeaderSize() + " (expected: >= 1024 bytes)");
        }
        if (limits.maxInitialLineLength() < 256) {
            errors.add("limits.max_initial_line_length: " + limits.maxInitialLineLength() + " (expected: >= 256 bytes)");
        }
        if (routes.isEmpty()) {
            errors.add("routes: [] (expected: at least one route with a name and an upstream, or --upstream ws://HOST:PORT)");
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < routes.size(); i++) {
            RouteConfig r = routes.get(i);
            String at = "routes[" + i + "]";
            if (r.name() == null || !r.name().matches("[a-zA-Z0-9_.-]{1,64}")) {
                errors.add(at + ".name: '" + r.name() + "' (expected: 1-64 characters of a-z A-Z 0-9 _ . -)");
            } else if (names.contains(r.name())) {
                errors.add(at + ".name: '" + r.name() + "' (expected: a name no other route has)");
            } else {
                names.add(r.name());
            }
            if (!r.pathPrefix().startsWith("/")) {
                errors.add(at + ".path_prefix: '" + r.pathPrefix() + "' (expected: a path starting with /)");
            }
            check(errors, at + ".upstream", () -> UpstreamUri.parse(r.upstream()));
        }
        if (log.normalLevel() == null) {
            errors.add("log.normal_level: (expected: one of trace, debug, info, warn, error)");
        }
        for (int i = 0; i < codes.size(); i++) {
            codes.get(i).validate("codes[" + i + "]", errors);
        }
        return errors;
    }

    private static void check(List<String> errors, String key, Runnable parse) {
        try {
            parse.run();
        } catch (IllegalArgumentException e) {
            errors.add(key + ": " + e.getMessage());
        }
    }

    private static void positive(List<String> errors, String key, Duration d) {
        if (d.isZero() || d.isNegative()) {
            errors.add(key + ": " + d + " (expected: > 0, e.g. 5s)");
        }
    }

    /** A copy listening on {@code listen}. */
    public CloseWatchConfig withListen(String listen) {
        return new CloseWatchConfig(listen, admin, upstream, limits, routes, log, codes);
    }

    /** A copy whose admin server listens on {@code adminListen}. */
    public CloseWatchConfig withAdmin(String adminListen) {
        return new CloseWatchConfig(listen, new AdminConfig(adminListen), upstream, limits, routes, log, codes);
    }

    /** A copy with one route, {@code default}, for every path, to {@code upstreamUri}. */
    public CloseWatchConfig withUpstream(String upstreamUri) {
        return new CloseWatchConfig(listen, admin, upstream, limits,
                List.of(new RouteConfig("default", "/", upstreamUri)), log, codes);
    }

    /** A copy with other upstream timeouts. */
    public CloseWatchConfig withUpstreamTimeouts(UpstreamConfig timeouts) {
        return new CloseWatchConfig(listen, admin, timeouts, limits, routes, log, codes);
    }

    /** A copy with another close-log setting. */
    public CloseWatchConfig withLog(LogConfig log) {
        return new CloseWatchConfig(listen, admin, upstream, limits, routes, log, codes);
    }
}
