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
 * @param tls      TLS for the client leg ({@code wss://}); null for plain {@code ws://}
 * @param admin    admin server settings
 * @param upstream upstream timeouts
 * @param limits   connection, handshake and frame limits
 * @param keepalive dead-peer detection: Ping interval and timeout, idle timeout, TCP keepalive
 * @param drain    graceful drain on SIGTERM or {@code POST /admin/drain}
 * @param routes   at least one route; a request goes to the route with the longest matching
 *                 {@code path_prefix}
 * @param log      close-log settings
 * @param codes    the operator's own private close codes (4000–4999)
 * @param proxyProtocol  whether every client connection starts with a PROXY protocol v1 or v2
 *                       header (HAProxy's {@code send-proxy}); default false
 * @param reconnect      client keys, reconnect window and storm threshold ({@code reconnect:})
 * @param trustedProxies CIDR blocks ({@code 10.0.0.0/8}, {@code fd00::/8}, or a single address) of
 *                       peers whose {@code X-Forwarded-*} headers are honoured; default none
 * @param diagnosis      timeout signatures: window, counts, tolerance
 * @param otlp           OpenTelemetry export of the meters and close events ({@code otlp:}); off by default
 */
public record CloseWatchConfig(
        String listen,
        TlsConfig tls,
        AdminConfig admin,
        UpstreamConfig upstream,
        LimitsConfig limits,
        KeepaliveConfig keepalive,
        DrainConfig drain,
        List<RouteConfig> routes,
        LogConfig log,
        List<CustomCodeConfig> codes,
        Boolean proxyProtocol,
        List<String> trustedProxies,
        DiagnosisConfig diagnosis,
        ReconnectConfig reconnect,
        OtlpConfig otlp) {

    public static final String DEFAULT_LISTEN = "0.0.0.0:8080";

    public CloseWatchConfig {
        listen = listen == null ? DEFAULT_LISTEN : listen;
        admin = admin == null ? new AdminConfig(null) : admin;
        upstream = upstream == null ? new UpstreamConfig(null, null) : upstream;
        limits = limits == null ? new LimitsConfig(null, null, null, null, null, null) : limits;
        keepalive = keepalive == null ? new KeepaliveConfig(null, null, null, null, null) : keepalive;
        drain = drain == null ? new DrainConfig(null, null, null, null, null, null) : drain;
        routes = routes == null ? List.of() : List.copyOf(routes);
        log = log == null ? new LogConfig(null) : log;
        codes = codes == null ? List.of() : List.copyOf(codes);
        proxyProtocol = proxyProtocol != null && proxyProtocol;
        trustedProxies = trustedProxies == null ? List.of() : List.copyOf(trustedProxies);
        diagnosis = diagnosis == null ? DiagnosisConfig.defaults() : diagnosis;
        reconnect = reconnect == null ? new ReconnectConfig(null, null, null, null) : reconnect;
        otlp = otlp == null ? OtlpConfig.disabled() : otlp;
    }

    /** A configuration without OpenTelemetry export. */
    public CloseWatchConfig(String listen, TlsConfig tls, AdminConfig admin, UpstreamConfig upstream,
                            LimitsConfig limits, KeepaliveConfig keepalive, DrainConfig drain,
                            List<RouteConfig> routes, LogConfig log, List<CustomCodeConfig> codes,
                            Boolean proxyProtocol, List<String> trustedProxies, DiagnosisConfig diagnosis,
                            ReconnectConfig reconnect) {
        this(listen, tls, admin, upstream, limits, keepalive, drain, routes, log, codes, proxyProtocol, trustedProxies,
                diagnosis, reconnect, null);
    }

    /** A configuration with the default diagnosis settings. */
    public CloseWatchConfig(String listen, TlsConfig tls, AdminConfig admin, UpstreamConfig upstream,
                            LimitsConfig limits, KeepaliveConfig keepalive, DrainConfig drain,
                            List<RouteConfig> routes, LogConfig log, List<CustomCodeConfig> codes,
                            Boolean proxyProtocol, List<String> trustedProxies) {
        this(listen, tls, admin, upstream, limits, keepalive, drain, routes, log, codes, proxyProtocol, trustedProxies,
                null, null);
    }

    /** A configuration without PROXY protocol and trusted proxies. */
    public CloseWatchConfig(String listen, TlsConfig tls, AdminConfig admin, UpstreamConfig upstream,
                            LimitsConfig limits, KeepaliveConfig keepalive, DrainConfig drain,
                            List<RouteConfig> routes, LogConfig log, List<CustomCodeConfig> codes) {
        this(listen, tls, admin, upstream, limits, keepalive, drain, routes, log, codes, null, null);
    }

    /** The defaults, with no route (give one with {@link #withUpstream(String)}). */
    public static CloseWatchConfig defaults() {
        return new CloseWatchConfig(null, null, null, null, null, null, null, null, null, null, null, null);
    }

    /** The problems in this configuration, each {@code key.path: 'value' (expected: ...)}; empty if valid. */
    public List<String> validate() {
        List<String> errors = new ArrayList<>();
        check(errors, "listen", () -> HostPort.parse(listen));
        check(errors, "admin.listen", () -> HostPort.parse(admin.listen()));
        positive(errors, "upstream.connect_timeout", upstream.connectTimeout());
        positive(errors, "upstream.response_timeout", upstream.responseTimeout());
        positive(errors, "upstream.failure_backoff", upstream.failureBackoff());
        positive(errors, "limits.handshake_timeout", limits.handshakeTimeout());
        positive(errors, "drain.timeout", drain.timeout());
        if (drain.unreadyDelay().isNegative()) {
            errors.add("drain.unready_delay: " + Durations.format(drain.unreadyDelay()) + " (expected: >= 0; 0 = close the listener at once)");
        }
        if (drain.spread().isNegative()) {
            errors.add("drain.spread: " + Durations.format(drain.spread()) + " (expected: >= 0; 0 = every Close at once)");
        }
        if (drain.linger().isNegative()) {
            errors.add("drain.linger: " + Durations.format(drain.linger()) + " (expected: >= 0; 0 = exit at once)");
        }
        if (limits.maxConnections() < 0) {
            errors.add("limits.max_connections: " + limits.maxConnections() + " (expected: >= 0; 0 = unlimited)");
        }
        if (limits.keepaliveTimeout().isNegative()) {
            errors.add("limits.keepalive_timeout: " + Durations.format(limits.keepaliveTimeout()) + " (expected: >= 0; 0 = no limit)");
        }
        if (limits.maxFrameSize() < 0) {
            errors.add("limits.max_frame_size: " + limits.maxFrameSize() + " (expected: >= 0 bytes; 0 = unlimited)");
        }
        if (drain.closeCode() != 1012 && drain.closeCode() != 1001) {
            errors.add("drain.close_code: " + drain.closeCode() + " (expected: 1012 or 1001)");
        }
        if (drain.reason().getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 123) {
            errors.add("drain.reason: too long (expected: at most 123 bytes of UTF-8, RFC 6455 §5.5)");
        }
        if (keepalive.pingInterval().isNegative() || keepalive.pingTimeout().isNegative() || keepalive.idleTimeout().isNegative()) {
            errors.add("keepalive: negative duration (expected: >= 0; 0 = off)");
        }
        if (!keepalive.pingTimeout().isZero() && keepalive.pingInterval().isZero()) {
            errors.add("keepalive.ping_timeout: " + Durations.format(keepalive.pingTimeout()) + " (expected: ping_interval set too, so clients are asked to answer)");
        }
        if (!keepalive.pingTimeout().isZero() && keepalive.pingTimeout().compareTo(keepalive.pingInterval()) <= 0) {
            errors.add("keepalive.ping_timeout: " + Durations.format(keepalive.pingTimeout()) + " (expected: > ping_interval " + Durations.format(keepalive.pingInterval()) + ")");
        }
        if (keepalive.idleCloseCode() < 1000 || keepalive.idleCloseCode() > 4999
                || (keepalive.idleCloseCode() >= 1004 && keepalive.idleCloseCode() <= 1006)
                || (keepalive.idleCloseCode() >= 1015 && keepalive.idleCloseCode() < 3000)) {
            errors.add("keepalive.idle_close_code: " + keepalive.idleCloseCode() + " (expected: a code that may be sent, e.g. 1001)");
        }
        if (tls != null) {
            boolean pem = tls.cert() != null || tls.key() != null;
            if (pem == (tls.pkcs12() != null)) {
                errors.add("tls: (expected: either cert and key, or pkcs12)");
            } else if (pem && (tls.cert() == null || tls.key() == null)) {
                errors.add("tls: (expected: both cert and key)");
            }
            for (String[] f : new String[][] {{"tls.cert", tls.cert()}, {"tls.key", tls.key()}, {"tls.pkcs12", tls.pkcs12()}}) {
                if (f[1] != null && !java.nio.file.Files.isReadable(java.nio.file.Path.of(f[1]))) {
                    errors.add(f[0] + ": '" + f[1] + "' (expected: a readable file)");
                }
            }
        }
        if (upstream.tls().ca() != null && !java.nio.file.Files.isReadable(java.nio.file.Path.of(upstream.tls().ca()))) {
            errors.add("upstream.tls.ca: '" + upstream.tls().ca() + "' (expected: a readable PEM file)");
        }
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
            if (r.upstream() != null && !r.upstreams().isEmpty()) {
                errors.add(at + ": both upstream and upstreams (expected: one of them)");
            } else if (r.allUpstreams().isEmpty()) {
                errors.add(at + ".upstream: (expected: ws://HOST:PORT[/path], or a list under upstreams)");
            }
            List<String> ups = r.allUpstreams();
            for (int j = 0; j < ups.size(); j++) {
                String u = ups.get(j);
                check(errors, at + (r.upstreams().isEmpty() ? ".upstream" : ".upstreams[" + j + "]"), () -> UpstreamUri.parse(u));
            }
            for (int j = 0; j < r.codes().size(); j++) {
                r.codes().get(j).validate(at + ".codes[" + j + "]", errors);
            }
            if (!RouteConfig.HOST_HEADER_PRESERVE.equals(r.hostHeader())
                    && !RouteConfig.HOST_HEADER_UPSTREAM.equals(r.hostHeader())) {
                errors.add(at + ".host_header: '" + r.hostHeader() + "' (expected: preserve or upstream)");
            }
            if (r.host() != null && !r.host().matches("[A-Za-z0-9.-]{1,253}")) {
                errors.add(at + ".host: '" + r.host() + "' (expected: a host name without port, e.g. chat.example.com)");
            }
        }
        if (log.normalLevel() == null) {
            errors.add("log.normal_level: (expected: one of trace, debug, info, warn, error)");
        }
        if (admin.token() != null && !admin.token().matches("[A-Za-z0-9._~+/-]{16,}=*")) {
            errors.add("admin.token: <hidden, " + admin.token().length() + " characters> (expected: at least 16 of"
                    + " A-Z a-z 0-9 - . _ ~ + /, a bearer token as in RFC 6750)");
        }
        if (admin.recentCloses() < 1 || admin.recentCloses() > 100_000) {
            errors.add("admin.recent_closes: " + admin.recentCloses() + " (expected: 1-100000)");
        }
        if (admin.maxStreams() < 0 || admin.maxStreams() > 1024) {
            errors.add("admin.max_streams: " + admin.maxStreams() + " (expected: 0-1024; 0 = no /api/closes/stream)");
        }
        if (admin.maxStreams() >= 0 && admin.maxStreams() <= 1024
                && (admin.maxConnections() < admin.maxStreams() + 2 || admin.maxConnections() > 100_000)) {
            errors.add("admin.max_connections: " + admin.maxConnections() + " (expected: at least admin.max_streams + 2 = "
                    + (admin.maxStreams() + 2) + ", at most 100000, so a health probe always finds a connection)");
        }
        if (admin.requestHeadTimeout().compareTo(Duration.ofMillis(100)) < 0
                || admin.requestHeadTimeout().compareTo(Duration.ofMinutes(5)) > 0) {
            errors.add("admin.request_head_timeout: " + Durations.format(admin.requestHeadTimeout()) + " (expected: 100ms-5m)");
        }
        if (admin.keepaliveTimeout().compareTo(Duration.ofMillis(100)) < 0
                || admin.keepaliveTimeout().compareTo(Duration.ofHours(1)) > 0) {
            errors.add("admin.keepalive_timeout: " + Durations.format(admin.keepaliveTimeout()) + " (expected: 100ms-1h)");
        }
        if (log.rateLimit().linesPerSecond() < 0) {
            errors.add("log.rate_limit.lines_per_second: " + log.rateLimit().linesPerSecond() + " (expected: >= 0; 0 = unlimited)");
        }
        if (log.rateLimit().burst() < 1) {
            errors.add("log.rate_limit.burst: " + log.rateLimit().burst() + " (expected: >= 1)");
        }
        if (log.rateLimit().summaryInterval().compareTo(Duration.ofSeconds(1)) < 0) {
            errors.add("log.rate_limit.summary_interval: " + Durations.format(log.rateLimit().summaryInterval()) + " (expected: >= 1s)");
        }
        for (int i = 0; i < codes.size(); i++) {
            codes.get(i).validate("codes[" + i + "]", errors);
        }
        for (int i = 0; i < trustedProxies.size(); i++) {
            String block = trustedProxies.get(i);
            check(errors, "trusted_proxies[" + i + "]", () -> Cidr.parse(block));
        }
        diagnosis.validate(errors);
        reconnect.validate(errors);
        otlp.validate(errors);
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
            errors.add(key + ": " + Durations.format(d) + " (expected: > 0, e.g. 5s)");
        }
    }

    /** A copy with these {@code reconnect:} settings. */
    public CloseWatchConfig withReconnect(ReconnectConfig reconnect) {
        return new CloseWatchConfig(listen, tls, admin, upstream, limits, keepalive, drain, routes, log, codes, proxyProtocol, trustedProxies, diagnosis, reconnect, otlp);
    }

    /** A copy listening on {@code listen}. */
    public CloseWatchConfig withListen(String listen) {
        return new CloseWatchConfig(listen, tls, admin, upstream, limits, keepalive, drain, routes, log, codes, proxyProtocol, trustedProxies, diagnosis, reconnect, otlp);
    }

    /** A copy whose admin server listens on {@code adminListen}. */
    public CloseWatchConfig withAdmin(String adminListen) {
        return withAdminConfig(admin.withListen(adminListen));
    }

    /** A copy with other admin settings. */
    public CloseWatchConfig withAdminConfig(AdminConfig admin) {
        return new CloseWatchConfig(listen, tls, admin, upstream, limits, keepalive, drain, routes, log, codes, proxyProtocol, trustedProxies, diagnosis, reconnect, otlp);
    }

    /** A copy with one route, {@code default}, for every path, to {@code upstreamUri}. */
    public CloseWatchConfig withUpstream(String upstreamUri) {
        return withRoutes(List.of(new RouteConfig("default", "/", null, upstreamUri, null)));
    }

    /** A copy with these routes. */
    public CloseWatchConfig withRoutes(List<RouteConfig> routes) {
        return new CloseWatchConfig(listen, tls, admin, upstream, limits, keepalive, drain, routes, log, codes, proxyProtocol, trustedProxies, diagnosis, reconnect, otlp);
    }

    /** A copy with other upstream settings. */
    public CloseWatchConfig withUpstreamTimeouts(UpstreamConfig upstream) {
        return new CloseWatchConfig(listen, tls, admin, upstream, limits, keepalive, drain, routes, log, codes, proxyProtocol, trustedProxies, diagnosis, reconnect, otlp);
    }

    /** A copy with other limits. */
    public CloseWatchConfig withLimits(LimitsConfig limits) {
        return new CloseWatchConfig(listen, tls, admin, upstream, limits, keepalive, drain, routes, log, codes, proxyProtocol, trustedProxies, diagnosis, reconnect, otlp);
    }

    /** A copy with other keepalive settings. */
    public CloseWatchConfig withKeepalive(KeepaliveConfig keepalive) {
        return new CloseWatchConfig(listen, tls, admin, upstream, limits, keepalive, drain, routes, log, codes, proxyProtocol, trustedProxies, diagnosis, reconnect, otlp);
    }

    /** A copy with other drain settings. */
    public CloseWatchConfig withDrain(DrainConfig drain) {
        return new CloseWatchConfig(listen, tls, admin, upstream, limits, keepalive, drain, routes, log, codes, proxyProtocol, trustedProxies, diagnosis, reconnect, otlp);
    }

    /** A copy with client-leg TLS. */
    public CloseWatchConfig withTls(TlsConfig tls) {
        return new CloseWatchConfig(listen, tls, admin, upstream, limits, keepalive, drain, routes, log, codes, proxyProtocol, trustedProxies, diagnosis, reconnect, otlp);
    }

    /** A copy with another close-log setting. */
    public CloseWatchConfig withLog(LogConfig log) {
        return new CloseWatchConfig(listen, tls, admin, upstream, limits, keepalive, drain, routes, log, codes, proxyProtocol, trustedProxies, diagnosis, reconnect, otlp);
    }

    /** A copy that expects (or not) a PROXY protocol header on every client connection. */
    public CloseWatchConfig withProxyProtocol(boolean proxyProtocol) {
        return new CloseWatchConfig(listen, tls, admin, upstream, limits, keepalive, drain, routes, log, codes, proxyProtocol, trustedProxies, diagnosis, reconnect, otlp);
    }

    /** A copy honouring {@code X-Forwarded-*} from these CIDR blocks. */
    public CloseWatchConfig withTrustedProxies(List<String> trustedProxies) {
        return new CloseWatchConfig(listen, tls, admin, upstream, limits, keepalive, drain, routes, log, codes, proxyProtocol, trustedProxies, diagnosis, reconnect, otlp);
    }

    /** A copy with other diagnosis settings. */
    public CloseWatchConfig withDiagnosis(DiagnosisConfig diagnosis) {
        return new CloseWatchConfig(listen, tls, admin, upstream, limits, keepalive, drain, routes, log, codes, proxyProtocol, trustedProxies, diagnosis, reconnect, otlp);
    }

    /** A copy with these {@code otlp:} settings. */
    public CloseWatchConfig withOtlp(OtlpConfig otlp) {
        return new CloseWatchConfig(listen, tls, admin, upstream, limits, keepalive, drain, routes, log, codes, proxyProtocol, trustedProxies, diagnosis, reconnect, otlp);
    }

    /** A copy with these custom close codes. */
    public CloseWatchConfig withCodes(List<CustomCodeConfig> codes) {
        return new CloseWatchConfig(listen, tls, admin, upstream, limits, keepalive, drain, routes, log, codes, proxyProtocol, trustedProxies, diagnosis, reconnect, otlp);
    }
}
