package dev.closewatch.admin;

import static java.util.Objects.requireNonNull;

import dev.closewatch.admin.AdminExchange.Request;
import dev.closewatch.admin.AdminExchange.Response;
import dev.closewatch.admin.QueryParams.BadRequest;
import dev.closewatch.catalog.Category;
import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.AdminConfig;
import dev.closewatch.config.Durations;
import dev.closewatch.config.HostPort;
import dev.closewatch.diagnose.top.TopOffenders;
import dev.closewatch.observe.LogText;
import dev.closewatch.observe.Observability;
import dev.closewatch.diagnose.SignatureDetector;
import dev.closewatch.observe.RecentCloses;
import dev.closewatch.proxy.Transport;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import dev.closewatch.websocket.WebSocketSession;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.compression.StandardCompressionOptions;
import io.netty.handler.codec.http.HttpContentCompressor;
import io.netty.handler.codec.http.HttpContentEncoder;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP server, on Netty with its own event loop ({@code closewatch-admin}) and
 * {@value #WORKERS} worker threads ({@code closewatch-admin-worker-N}), away from the proxy's event
 * loops. Loopback by default ({@code admin.listen}).
 * <ul>
 *   <li>{@code GET /metrics} — every meter, in the OpenMetrics 1.0.0 text format when the
 *       {@code Accept} header prefers {@code application/openmetrics-text}, else the Prometheus
 *       text format 0.0.4; gzip-coded when {@code Accept-Encoding} allows (RFC 9110 §12.5.3);</li>
 *   <li>{@code GET /healthz} — 200 {@code ok} while the process runs; never needs the token;</li>
 *   <li>{@code GET /readyz} — 200 {@code ready}, or 503 {@code draining} once the readiness
 *       supplier ({@link #setReadiness}) says false;</li>
 *   <li>{@code POST /admin/drain} — runs the drain hook ({@link #setDrainHook}), 202; 501 when
 *       none is set;</li>
 *   <li>{@code POST /admin/reload} — runs the reload hook ({@link #setReloadHook}): 200 with a
 *       short summary when the configuration file was applied, 422 with the {@code check-config}
 *       messages when it was refused; 501 when none is set (closewatch started without
 *       {@code --config});</li>
 *   <li>{@code GET /api/sessions?limit=} — the open sessions, oldest first (JSON);</li>
 *   <li>{@code GET /api/closes?code=&initiator=&limit=} — the most recent close events, newest
 *       first, from a ring of {@code admin.recent_closes} (JSON);</li>
 *   <li>{@code GET /api/closes/stream} — each close event as it happens, as Server-Sent Events
 *       ({@code event: close}, {@code data:} the same JSON as one {@code /api/closes} item);</li>
 *   <li>{@code GET /api/codes} — the close-code catalog (JSON);</li>
 *   <li>{@code GET /api/diagnosis} — the timeout signatures and reconnect storms now (JSON);</li>
 *   <li>{@code GET /api/summary?window=} — session ends of the last window by status code (JSON);</li>
 *   <li>{@code GET /api/reconnects} — reconnect storms now and reconnects by previous code (JSON);</li>
 *   <li>{@code GET /api/top?by=&category=&limit=} — heavy hitters of session ends (JSON).</li>
 * </ul>
 *
 * <p>With {@code admin.token} set, every endpoint but {@code /healthz} answers 401 with a
 * {@code WWW-Authenticate: Bearer} challenge (RFC 6750 §3) unless the request carries
 * {@code Authorization: Bearer <token>} (compared in constant time). Bad query parameters get 400
 * with a message such as {@code limit: 'x' (expected: 1-1000)}.
 *
 * <p>Nobody can lock the admin port, with or without a token: the request line is limited to
 * {@value #MAX_INITIAL_LINE} bytes (414), the header section to {@value #MAX_HEADER_SIZE} (431), a
 * body to {@value #MAX_BODY} (413); a request must be complete within
 * {@code admin.request_head_timeout} (408) and an idle connection goes after
 * {@code admin.keepalive_timeout}; at {@code admin.max_connections} a new connection evicts the
 * oldest one without a request in progress ({@link AdminConnections}). {@code /healthz},
 * {@code /readyz}, refusals and the event stream are answered on the event loop, which never
 * blocks; the endpoints that scrape, serialise or call out ({@code /metrics}, {@code /api/*}
 * but the stream, {@code /admin/drain}, {@code /admin/reload}) run on the workers, at most
 * {@code admin.max_connections - admin.max_streams - 1} at once (more get 503 {@code busy}), so
 * streams and worker requests together never hold every connection. The server's own refusals
 * are counted in {@link AdminMeters}.
 */
public final class AdminServer implements AutoCloseable {

    /** Threads for the endpoints that scrape or serialise; health probes never wait for them. */
    static final int WORKERS = 2;
    /** Close events buffered per stream subscriber before it drops. */
    static final int STREAM_QUEUE = 1024;
    /** A comment line is sent this often on an idle stream, so dead subscribers are noticed. */
    static final long STREAM_HEARTBEAT_SECONDS = 15;
    /** Default and largest {@code limit} of {@code /api/sessions}. */
    static final int SESSIONS_DEFAULT_LIMIT = 1000;
    static final int SESSIONS_MAX_LIMIT = 100_000;
    /** Default {@code limit} of {@code /api/closes} (capped by the ring's capacity). */
    static final int CLOSES_DEFAULT_LIMIT = 100;
    /** Default {@code window} of {@code /api/summary}: the top offenders' window. */
    static final Duration SUMMARY_DEFAULT_WINDOW = Duration.ofMinutes(10);
    /** Longest request line, bytes (RFC 9112 §3: a server may answer 414 beyond its limit). */
    static final int MAX_INITIAL_LINE = 4096;
    /** Largest header section, bytes (RFC 6585 §5: 431 beyond). */
    static final int MAX_HEADER_SIZE = 8192;
    /** Largest request body, bytes: only {@code POST /admin/drain} takes one, and ignores it (413 beyond). */
    static final int MAX_BODY = 4096;
    /** Responses smaller than this are not compressed: gzip would make them bigger. */
    static final int COMPRESS_THRESHOLD = 1024;

    static final String TEXT = "text/plain; charset=utf-8";
    static final String JSON = "application/json";
    /** The OpenMetrics 1.0.0 text format's media type, as the Prometheus client's writer names it. */
    static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    /** The Prometheus text format 0.0.4's media type. */
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
    private static final String REALM = "Bearer realm=\"closewatch admin\"";
    private static final String PATHS = "/metrics, /healthz, /readyz, POST /admin/drain, POST /admin/reload, "
            + "/api/sessions, /api/closes, /api/closes/stream, /api/codes, /api/diagnosis, /api/summary, /api/reconnects, /api/top";

    private final AdminConfig config;
    private final PrometheusMeterRegistry registry;
    private volatile CloseCatalog catalog;
    private final Observability observability;
    private final RecentCloses recentCloses;
    private final CloseEventStream stream;
    private final CloseWindow closeWindow = new CloseWindow(System::nanoTime);
    private final AdminMeters meters;
    private final byte[] token;
    private final int maxWorking;
    private final Transport transport;
    private final EventLoopGroup group;
    private final ExecutorService workers;
    private final ChannelGroup channels;
    private Channel serverChannel;
    private AdminConnections connections;
    /** Requests at the workers or waiting for one; on the event loop only. */
    private int working;
    private volatile BooleanSupplier readiness = () -> true;
    private volatile Runnable drainHook;
    private volatile Supplier<ReloadOutcome> reloadHook;
    private volatile SignatureDetector diagnosis;
    private final AtomicBoolean closed = new AtomicBoolean();

    private AdminServer(AdminConfig config, PrometheusMeterRegistry registry, CloseCatalog catalog,
                        Observability observability, RecentCloses recentCloses) {
        this.config = config;
        this.registry = registry;
        this.catalog = catalog;
        this.observability = observability;
        this.recentCloses = recentCloses;
        this.stream = new CloseEventStream(config.maxStreams(), STREAM_QUEUE);
        this.meters = new AdminMeters(registry);
        this.token = config.token() == null ? null : config.token().getBytes(StandardCharsets.UTF_8);
        this.maxWorking = Math.max(1, config.maxConnections() - config.maxStreams() - 1);
        this.transport = Transport.best();
        // one event loop: the connection bookkeeping needs no locks, and nothing on it blocks
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("closewatch-admin", true),
                transport.ioHandlerFactory().get());
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(WORKERS, WORKERS, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "closewatch-admin-worker-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.channels = new DefaultChannelGroup("closewatch-admin", group.next());
    }

    /**
     * Binds the admin server and subscribes its event stream to {@code observability}'s close
     * events. Ready ({@code /readyz} 200) until {@link #setReadiness} says otherwise; no drain
     * hook until {@link #setDrainHook}.
     *
     * @param config        listen address, token, stream and connection limits, timeouts
     *                      ({@link AdminConfig#recentCloses()} is {@code recentCloses}' business)
     * @param registry      what {@code /metrics} scrapes; the admin server's own meters go there too
     * @param catalog       what {@code /api/codes} lists
     * @param observability the open sessions for {@code /api/sessions}, the close events for
     *                      {@code /api/closes/stream}
     * @param recentCloses  the ring {@code /api/closes} reads; its capacity is the largest limit
     * @throws IOException              if the address cannot be bound
     * @throws IllegalArgumentException if {@code config.listen()} is not {@code HOST:PORT}
     */
    public static AdminServer start(AdminConfig config, PrometheusMeterRegistry registry, CloseCatalog catalog,
                                    Observability observability, RecentCloses recentCloses) throws IOException {
        requireNonNull(config, "config");
        requireNonNull(registry, "registry");
        requireNonNull(catalog, "catalog");
        requireNonNull(observability, "observability");
        requireNonNull(recentCloses, "recentCloses");
        HostPort listen = HostPort.parse(config.listen());
        AdminServer admin = new AdminServer(config, registry, catalog, observability, recentCloses);
        try {
            admin.bind(new InetSocketAddress(listen.host(), listen.port()));
        } catch (IOException | RuntimeException e) {
            admin.close();
            throw e;
        }
        observability.addCloseConsumer(admin.stream);
        observability.addCloseConsumer(admin.closeWindow);
        LOG.atInfo().addKeyValue("event", "admin.listening")
                .addKeyValue("address", new HostPort(listen.host(), admin.address().getPort()))
                .addKeyValue("token", admin.token == null ? "off" : "required")
                .log("closewatch admin listening on http://{}/metrics (bearer token {})",
                        new HostPort(listen.host(), admin.address().getPort()), admin.token == null ? "off" : "required");
        return admin;
    }

    private void bind(InetSocketAddress address) throws IOException {
        connections = new AdminConnections(config.maxConnections(), meters);
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 128)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        channels.add(ch);
                        AdminConnection connection = new AdminConnection(connections, meters,
                                config.requestHeadTimeout(), config.keepaliveTimeout());
                        ch.pipeline().addLast("connection", connection)
                                .addLast("http", new HttpServerCodec(new HttpDecoderConfig()
                                        .setMaxInitialLineLength(MAX_INITIAL_LINE)
                                        .setMaxHeaderSize(MAX_HEADER_SIZE)
                                        .setMaxChunkSize(MAX_BODY)
                                        .setStrictLineParsing(true)))
                                .addLast("compressor", new Compressor())
                                .addLast("aggregator", new HttpObjectAggregator(MAX_BODY))
                                .addLast("requests", new AdminRequestHandler(AdminServer.this, connection, meters));
                    }
                });
        try {
            serverChannel = b.bind(address).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("admin.listen " + address + ": interrupted while binding", e);
        } catch (Exception e) {
            // Netty rethrows the bind's checked exception undeclared
            if (e instanceof IOException io) {
                throw io;
            }
            throw new IOException("admin.listen " + address + ": " + e.getMessage(), e);
        }
    }

    /**
     * Sets what {@code /readyz} reports: 200 {@code ready} while {@code readiness} returns true,
     * 503 {@code draining} once it returns false (or throws). Called on the admin event loop per
     * request, so health probes are never queued behind other work: it must be cheap, must not
     * block, and must be thread-safe.
     */
    public void setReadiness(BooleanSupplier readiness) {
        this.readiness = requireNonNull(readiness, "readiness");
    }

    /**
     * Sets what {@code POST /admin/drain} runs, on an admin worker thread, before answering 202. It
     * must return quickly (start the drain, do not wait for it) and may be called more than once.
     */
    public void setDrainHook(Runnable drainHook) {
        this.drainHook = requireNonNull(drainHook, "drainHook");
    }

    /**
     * What a configuration reload did, as {@code POST /admin/reload} answers it.
     *
     * @param applied true: 200, the new configuration is in use; false: 422, it was refused
     * @param body    plain text: a summary line, then the messages (one per line)
     */
    public record ReloadOutcome(boolean applied, String body) {

        public ReloadOutcome {
            requireNonNull(body, "body");
        }
    }

    /**
     * Sets what {@code POST /admin/reload} runs, on an admin worker thread; it re-reads and applies
     * the configuration and returns what happened. Until called, the endpoint answers 501.
     */
    public void setReloadHook(Supplier<ReloadOutcome> reloadHook) {
        this.reloadHook = requireNonNull(reloadHook, "reloadHook");
    }

    /** Sets the detector {@code GET /api/diagnosis} reads; until called, the endpoint answers 501. */
    public void setDiagnosis(SignatureDetector diagnosis) {
        this.diagnosis = requireNonNull(diagnosis, "diagnosis");
    }

    /** Sets the catalog {@code /api/codes} lists (a reload may change the custom codes). */
    public void setCatalog(CloseCatalog catalog) {
        this.catalog = requireNonNull(catalog, "catalog");
    }

    /** The bound address. */
    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** Stream subscribers connected now. */
    int streamSubscribers() {
        return stream.subscribers();
    }

    /** Admin connections admitted and open now (asked on the event loop, which owns the count). */
    int connections() {
        try {
            return group.next().submit(connections::size).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("admin event loop did not answer", e);
        }
    }

    /** Routes one request; on the admin event loop. */
    void dispatch(AdminRequestHandler conn, Request request) {
        String path = request.path();
        try {
            if (!path.equals("/healthz") && !authorized(conn, request)) {
                return;
            }
            switch (path) {
                case "/metrics" -> {
                    if (allow(conn, request, "GET", "HEAD")) {
                        work(conn, request, this::metrics);
                    }
                }
                case "/healthz" -> {
                    if (allow(conn, request, "GET", "HEAD")) {
                        conn.respond(request, Response.of(200, TEXT, "ok\n"));
                    }
                }
                case "/readyz" -> {
                    if (allow(conn, request, "GET", "HEAD")) {
                        readyz(conn, request);
                    }
                }
                case "/admin/drain" -> {
                    if (allow(conn, request, "POST")) {
                        work(conn, request, this::drain);
                    }
                }
                case "/admin/reload" -> {
                    if (allow(conn, request, "POST")) {
                        work(conn, request, this::reload);
                    }
                }
                case "/api/sessions" -> {
                    if (allow(conn, request, "GET", "HEAD")) {
                        work(conn, request, this::sessions);
                    }
                }
                case "/api/closes" -> {
                    if (allow(conn, request, "GET", "HEAD")) {
                        work(conn, request, this::closes);
                    }
                }
                case "/api/closes/stream" -> {
                    if (allow(conn, request, "GET")) {
                        stream(conn, request);
                    }
                }
                case "/api/codes" -> {
                    if (allow(conn, request, "GET", "HEAD")) {
                        work(conn, request, this::codes);
                    }
                }
                case "/api/diagnosis" -> {
                    if (allow(conn, request, "GET", "HEAD")) {
                        work(conn, request, this::diagnosis);
                    }
                }
                case "/api/summary" -> {
                    if (allow(conn, request, "GET", "HEAD")) {
                        work(conn, request, this::summary);
                    }
                }
                case "/api/reconnects" -> {
                    if (allow(conn, request, "GET", "HEAD")) {
                        work(conn, request, this::reconnects);
                    }
                }
                case "/api/top" -> {
                    if (allow(conn, request, "GET", "HEAD")) {
                        work(conn, request, this::top);
                    }
                }
                default -> conn.respond(request, Response.of(404, TEXT,
                        "not found: " + path + " (expected one of: " + PATHS + ")\n"));
            }
        } catch (BadRequest e) {
            conn.respond(request, Response.of(400, TEXT, e.getMessage() + "\n"));
        }
    }

    /**
     * Runs {@code endpoint} on a worker and answers with its result; 503 {@code busy} when
     * {@link #maxWorking} requests are there already.
     */
    private void work(AdminRequestHandler conn, Request request, Function<Request, Response> endpoint) {
        if (working >= maxWorking) {
            meters.busy.increment();
            conn.respond(request, Response.of(503, TEXT, "busy: " + working + " admin requests in progress (expected: "
                    + "at most admin.max_connections - admin.max_streams - 1 = " + maxWorking + ")\n")
                    .with(HttpHeaderNames.RETRY_AFTER, "1"));
            return;
        }
        working++;
        Runnable job = () -> {
            Response answer;
            try {
                answer = endpoint.apply(request);
            } catch (BadRequest e) {
                answer = Response.of(400, TEXT, e.getMessage() + "\n");
            } catch (RuntimeException e) {
                LOG.atWarn().addKeyValue("event", "admin.request_failed")
                        .addKeyValue("method", LogText.escape(request.method()))
                        .addKeyValue("path", LogText.escape(request.path()))
                        .setCause(e).log("admin request failed");
                answer = Response.of(500, TEXT, "internal error: " + e + "\n");
            }
            Response done = answer;
            try {
                conn.context().executor().execute(() -> {
                    working--;
                    conn.respond(request, done);
                });
            } catch (RejectedExecutionException e) {
                // the admin server is closing: the connection goes with it
            }
        };
        try {
            workers.execute(job);
        } catch (RejectedExecutionException e) {
            working--;
            conn.respond(request, Response.of(503, TEXT, "admin server closing\n"));
        }
    }

    private boolean authorized(AdminRequestHandler conn, Request request) {
        if (token == null) {
            return true;
        }
        String header = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (header == null || header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            conn.respond(request, Response.of(401, TEXT,
                    "unauthorized: no bearer token (expected: Authorization: Bearer <admin.token>)\n")
                    .with(HttpHeaderNames.WWW_AUTHENTICATE, REALM));
            return false;
        }
        byte[] given = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, token)) {
            conn.respond(request, Response.of(401, TEXT,
                    "unauthorized: wrong bearer token (expected: the admin.token of the configuration)\n")
                    .with(HttpHeaderNames.WWW_AUTHENTICATE, REALM + ", error=\"invalid_token\""));
            return false;
        }
        return true;
    }

    private static boolean allow(AdminRequestHandler conn, Request request, String... methods) {
        for (String m : methods) {
            if (m.equals(request.method())) {
                return true;
            }
        }
        String allowed = String.join(", ", methods);
        conn.respond(request, Response.of(405, TEXT, "method not allowed: " + request.method()
                + " (expected: " + allowed + ")\n").with(HttpHeaderNames.ALLOW, allowed));
        return false;
    }

    private void readyz(AdminRequestHandler conn, Request request) {
        boolean ready;
        try {
            ready = readiness.getAsBoolean();
        } catch (RuntimeException e) {
            LOG.atWarn().addKeyValue("event", "admin.readiness_failed").setCause(e)
                    .log("readiness check failed; answering 503");
            ready = false;
        }
        conn.respond(request, ready ? Response.of(200, TEXT, "ready\n") : Response.of(503, TEXT, "draining\n"));
    }

    /** {@code /metrics}: the exposition format the {@code Accept} header prefers (see {@link #prefersOpenMetrics}). */
    private Response metrics(Request request) {
        String contentType = prefersOpenMetrics(request.headers().get(HttpHeaderNames.ACCEPT))
                ? OPENMETRICS : PROMETHEUS_TEXT;
        return Response.of(200, contentType, registry.scrape(contentType))
                .with(HttpHeaderNames.VARY, "Accept, Accept-Encoding");
    }

    /**
     * Whether {@code accept} (RFC 9110 §12.5.1) ranks {@code application/openmetrics-text} above
     * zero and no lower than {@code text/plain} (or {@code text/*}, {@code *}{@code /*}). Prometheus
     * sends {@code application/openmetrics-text;version=1.0.0,...,text/plain;version=0.0.4;q=0.5,...}.
     */
    static boolean prefersOpenMetrics(String accept) {
        if (accept == null) {
            return false;
        }
        double openMetrics = 0;
        double text = 0;
        for (String range : accept.split(",")) {
            String[] parts = range.split(";");
            String type = parts[0].trim().toLowerCase(Locale.ROOT);
            double q = 1;
            for (int i = 1; i < parts.length; i++) {
                String p = parts[i].trim();
                if (p.length() > 2 && p.regionMatches(true, 0, "q=", 0, 2)) {
                    try {
                        q = Double.parseDouble(p.substring(2).trim());
                    } catch (NumberFormatException e) {
                        q = 0;
                    }
                }
            }
            if (type.equals("application/openmetrics-text")) {
                openMetrics = Math.max(openMetrics, q);
            } else if (type.equals("text/plain") || type.equals("text/*") || type.equals("*/*")) {
                text = Math.max(text, q);
            }
        }
        return openMetrics > 0 && openMetrics >= text;
    }

    private Response drain(Request request) {
        Runnable hook = drainHook;
        if (hook == null) {
            return Response.of(501, TEXT, "drain: not available (expected: a drain hook set with "
                    + "CloseWatchApp.setDrainHook or AdminServer.setDrainHook)\n");
        }
        LOG.atInfo().addKeyValue("event", "admin.drain").addKeyValue("client", LogText.escape(request.client()))
                .log("drain requested through the admin API");
        hook.run();
        return Response.of(202, TEXT, "draining\n");
    }

    private Response reload(Request request) {
        Supplier<ReloadOutcome> hook = reloadHook;
        if (hook == null) {
            return Response.of(501, TEXT, "reload: not available (expected: closewatch started with --config FILE)\n");
        }
        LOG.atInfo().addKeyValue("event", "admin.reload").addKeyValue("client", LogText.escape(request.client()))
                .log("configuration reload requested through the admin API");
        ReloadOutcome outcome = hook.get();
        return Response.of(outcome.applied() ? 200 : 422, TEXT, outcome.body());
    }

    private Response sessions(Request request) {
        QueryParams q = QueryParams.parse(request.target(), Set.of("limit"));
        int limit = q.intIn("limit", 1, SESSIONS_MAX_LIMIT, SESSIONS_DEFAULT_LIMIT);
        List<WebSocketSession> open = observability.openSessions().snapshot();
        Instant now = Instant.now();
        List<AdminJson.SessionView> views = open.stream()
                .sorted(Comparator.comparing(WebSocketSession::openedAt).thenComparing(WebSocketSession::id))
                .limit(limit)
                .map(s -> AdminJson.SessionView.of(s, now))
                .toList();
        return Response.of(200, JSON, AdminJson.write(new AdminJson.Sessions(open.size(), views)));
    }

    private Response closes(Request request) {
        QueryParams q = QueryParams.parse(request.target(), Set.of("code", "initiator", "limit"));
        int limit = q.intIn("limit", 1, recentCloses.capacity(), Math.min(CLOSES_DEFAULT_LIMIT, recentCloses.capacity()));
        Predicate<CloseEvent> filter = e -> true;
        String code = q.get("code");
        if (code != null) {
            int wanted = parseCode(code);
            filter = filter.and(e -> e.code() == wanted);
        }
        String initiator = q.get("initiator");
        if (initiator != null) {
            Initiator wanted = parseInitiator(initiator);
            filter = filter.and(e -> e.initiator() == wanted);
        }
        List<AdminJson.CloseView> views = recentCloses.newestFirst(filter, limit).stream()
                .map(AdminJson.CloseView::of).toList();
        return Response.of(200, JSON, AdminJson.write(new AdminJson.Closes(views)));
    }

    private Response codes(Request request) {
        QueryParams.parse(request.target(), Set.of());
        return Response.of(200, JSON, AdminJson.write(new AdminJson.Codes(
                catalog.entries().stream().map(AdminJson.CodeView::of).toList(),
                catalog.ranges().stream().map(AdminJson.CodeView::of).toList())));
    }

    private Response diagnosis(Request request) {
        QueryParams.parse(request.target(), Set.of());
        SignatureDetector detector = diagnosis;
        if (detector == null) {
            return Response.of(501, TEXT, "diagnosis: not running\n");
        }
        return Response.of(200, JSON, AdminJson.write(DiagnosisJson.Diagnosis.of(detector,
                observability.reconnects().snapshot())));
    }

    /** {@code window} a duration such as {@code 10m} (1s-1h, default 10m): session ends in it by code. */
    private Response summary(Request request) {
        QueryParams q = QueryParams.parse(request.target(), Set.of("window"));
        Duration window = SUMMARY_DEFAULT_WINDOW;
        String text = q.get("window");
        if (text != null) {
            try {
                window = Durations.parse(text);
            } catch (IllegalArgumentException e) {
                window = null;
            }
            if (window == null || window.toMillis() % 1000 != 0 || window.toSeconds() < 1
                    || window.compareTo(CloseWindow.MAX_WINDOW) > 0) {
                throw new BadRequest("window: '" + text + "' (expected: whole seconds from 1s to 1h, e.g. 10m)");
            }
        }
        return Response.of(200, JSON, AdminJson.write(DiagnosisJson.Summary.of(window, Instant.now(),
                observability.openSessions().snapshot().size(), closeWindow.counts(window))));
    }

    private Response reconnects(Request request) {
        QueryParams.parse(request.target(), Set.of());
        return Response.of(200, JSON, AdminJson.write(DiagnosisJson.Reconnects.of(observability.reconnects().snapshot())));
    }

    /** {@code by} one of client, network, user_agent, origin, path (default client); {@code category} a label or all. */
    private Response top(Request request) {
        QueryParams q = QueryParams.parse(request.target(), Set.of("by", "category", "limit"));
        int limit = q.intIn("limit", 1, 100, 10);
        TopOffenders.Dimension by;
        Category category = null;
        try {
            by = TopOffenders.Dimension.fromLabel(q.get("by") == null ? "client" : q.get("by"));
            String c = q.get("category");
            if (c != null && !c.equals("all")) {
                category = Category.fromLabel(c);
            }
        } catch (IllegalArgumentException e) {
            throw new BadRequest(e.getMessage());
        }
        return Response.of(200, JSON, AdminJson.write(DiagnosisJson.Top.of(observability.topOffenders().top(by, category, limit))));
    }

    /** A close code 0-65535, or {@code invalid} for a malformed Close body. */
    private static int parseCode(String text) {
        if (text.equals("invalid")) {
            return CloseCatalog.MALFORMED;
        }
        try {
            int code = Integer.parseInt(text);
            if (code >= 0 && code <= 65535) {
                return code;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new BadRequest("code: '" + text + "' (expected: a close code 0-65535, or invalid)");
    }

    private static Initiator parseInitiator(String text) {
        for (Initiator i : Initiator.values()) {
            if (i.label().equals(text)) {
                return i;
            }
        }
        throw new BadRequest("initiator: '" + text + "' (expected one of: client, upstream, proxy)");
    }

    /** {@code /api/closes/stream}: see {@link EventStreamWriter}; 503 beyond {@code admin.max_streams}. */
    private void stream(AdminRequestHandler conn, Request request) {
        QueryParams.parse(request.target(), Set.of());
        EventStreamWriter writer = new EventStreamWriter(conn.context().channel());
        CloseEventStream.Subscription subscription = stream.subscribe(writer::wakeup);
        if (subscription == null) {
            conn.respond(request, Response.of(503, TEXT, "stream: " + stream.maxSubscribers()
                    + " subscribers connected already (expected: at most admin.max_streams = "
                    + stream.maxSubscribers() + ")\n"));
            return;
        }
        conn.streaming(writer);
        writer.start(subscription, request.version());
    }

    /** Stops listening, closes every connection (ending every stream), and stops the admin threads. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        observability.removeCloseConsumer(stream);
        observability.removeCloseConsumer(closeWindow);
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        channels.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        stream.closeAll();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        workers.shutdownNow();
    }

    @Override
    public String toString() {
        return "AdminServer[" + (serverChannel == null ? config.listen() : address()) + ", token "
                + (token == null ? "off" : "required") + "]";
    }

    /** gzip (RFC 9112 §7.2) when the client accepts it, for every response but the event stream. */
    private static final class Compressor extends HttpContentCompressor {

        Compressor() {
            super(COMPRESS_THRESHOLD, StandardCompressionOptions.gzip());
        }

        @Override
        protected HttpContentEncoder.Result beginEncode(HttpResponse response, String acceptEncoding) throws Exception {
            String type = response.headers().get(HttpHeaderNames.CONTENT_TYPE);
            if (type != null && type.startsWith("text/event-stream")) {
                // compressed events would sit in the deflater instead of reaching the subscriber
                return null;
            }
            return super.beginEncode(response, acceptEncoding);
        }
    }
}
