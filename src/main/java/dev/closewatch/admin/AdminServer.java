package dev.closewatch.admin;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.closewatch.admin.QueryParams.BadRequest;
import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.AdminConfig;
import dev.closewatch.config.HostPort;
import dev.closewatch.observe.Observability;
import dev.closewatch.observe.RecentCloses;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import dev.closewatch.websocket.WebSocketSession;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP server (the JDK's {@code com.sun.net.httpserver}, on its own threads, away from
 * the proxy's event loops). Loopback by default ({@code admin.listen}).
 * <ul>
 *   <li>{@code GET /metrics} — Prometheus text exposition format 0.0.4 of every meter;</li>
 *   <li>{@code GET /healthz} — 200 {@code ok} while the process runs; never needs the token;</li>
 *   <li>{@code GET /readyz} — 200 {@code ready}, or 503 {@code draining} once the readiness
 *       supplier ({@link #setReadiness}) says false;</li>
 *   <li>{@code POST /admin/drain} — runs the drain hook ({@link #setDrainHook}), 202; 501 when
 *       none is set;</li>
 *   <li>{@code GET /api/sessions?limit=} — the open sessions, oldest first (JSON);</li>
 *   <li>{@code GET /api/closes?code=&initiator=&limit=} — the most recent close events, newest
 *       first, from a ring of {@code admin.recent_closes} (JSON);</li>
 *   <li>{@code GET /api/closes/stream} — each close event as it happens, as Server-Sent Events
 *       ({@code event: close}, {@code data:} the same JSON as one {@code /api/closes} item);</li>
 *   <li>{@code GET /api/codes} — the close-code catalog (JSON).</li>
 * </ul>
 *
 * <p>With {@code admin.token} set, every endpoint but {@code /healthz} answers 401 with a
 * {@code WWW-Authenticate: Bearer} challenge (RFC 6750 §3) unless the request carries
 * {@code Authorization: Bearer <token>}. Bad query parameters get 400 with a message such as
 * {@code limit: 'x' (expected: 1-1000)}.
 *
 * <p>Threads: a fixed pool of {@code admin.max_streams} + {@value #REQUEST_THREADS} daemon threads
 * ({@code closewatch-admin-N}) with an unbounded request queue. Each connected stream subscriber
 * holds one thread; at most {@code admin.max_streams} may connect (more get 503), so
 * {@value #REQUEST_THREADS} threads always remain for the other endpoints. Subscribers are fed
 * through a bounded queue each ({@value #STREAM_QUEUE} events): a slow one loses events (told to
 * it as {@code event: dropped}), the event loops never wait.
 */
public final class AdminServer implements AutoCloseable {

    /** Threads kept for the short requests, beside one per stream subscriber. */
    static final int REQUEST_THREADS = 4;
    /** Close events buffered per stream subscriber before it drops. */
    static final int STREAM_QUEUE = 1024;
    /** A comment line is sent this often on an idle stream, so dead subscribers are noticed. */
    static final long STREAM_HEARTBEAT_SECONDS = 15;
    /** Default and largest {@code limit} of {@code /api/sessions}. */
    static final int SESSIONS_DEFAULT_LIMIT = 1000;
    static final int SESSIONS_MAX_LIMIT = 100_000;
    /** Default {@code limit} of {@code /api/closes} (capped by the ring's capacity). */
    static final int CLOSES_DEFAULT_LIMIT = 100;

    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
    private static final String TEXT = "text/plain; charset=utf-8";
    private static final String JSON = "application/json";
    private static final String REALM = "Bearer realm=\"closewatch admin\"";
    private static final String PATHS = "/metrics, /healthz, /readyz, POST /admin/drain, /api/sessions, "
            + "/api/closes, /api/closes/stream, /api/codes";

    private final HttpServer server;
    private final ExecutorService executor;
    private final PrometheusMeterRegistry registry;
    private final CloseCatalog catalog;
    private final Observability observability;
    private final RecentCloses recentCloses;
    private final CloseEventStream stream;
    private final byte[] token;
    private volatile BooleanSupplier readiness = () -> true;
    private volatile Runnable drainHook;
    private final AtomicBoolean closed = new AtomicBoolean();

    private AdminServer(HttpServer server, ExecutorService executor, AdminConfig config,
                        PrometheusMeterRegistry registry, CloseCatalog catalog, Observability observability,
                        RecentCloses recentCloses) {
        this.server = server;
        this.executor = executor;
        this.registry = registry;
        this.catalog = catalog;
        this.observability = observability;
        this.recentCloses = recentCloses;
        this.stream = new CloseEventStream(config.maxStreams(), STREAM_QUEUE);
        this.token = config.token() == null ? null : config.token().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Binds the admin server and subscribes its event stream to {@code observability}'s close
     * events. Ready ({@code /readyz} 200) until {@link #setReadiness} says otherwise; no drain
     * hook until {@link #setDrainHook}.
     *
     * @param config        listen address, token, stream limit ({@link AdminConfig#recentCloses()}
     *                      is {@code recentCloses}' business)
     * @param registry      what {@code /metrics} scrapes
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
        HttpServer server = HttpServer.create(new InetSocketAddress(listen.host(), listen.port()), 64);
        int threads = config.maxStreams() + REQUEST_THREADS;
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "closewatch-admin-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        executor.allowCoreThreadTimeOut(true);
        AdminServer admin = new AdminServer(server, executor, config, registry, catalog, observability, recentCloses);
        server.createContext("/", admin::handle);
        server.setExecutor(executor);
        observability.addCloseConsumer(admin.stream);
        server.start();
        LOG.info("closewatch admin listening on http://{}/metrics (bearer token {})",
                new HostPort(listen.host(), admin.address().getPort()), admin.token == null ? "off" : "required");
        return admin;
    }

    /**
     * Sets what {@code /readyz} reports: 200 {@code ready} while {@code readiness} returns true,
     * 503 {@code draining} once it returns false (or throws). Called on an admin thread per request;
     * it must be cheap and thread-safe.
     */
    public void setReadiness(BooleanSupplier readiness) {
        this.readiness = requireNonNull(readiness, "readiness");
    }

    /**
     * Sets what {@code POST /admin/drain} runs, on an admin thread, before answering 202. It must
     * return quickly (start the drain, do not wait for it) and may be called more than once.
     */
    public void setDrainHook(Runnable drainHook) {
        this.drainHook = requireNonNull(drainHook, "drainHook");
    }

    /** The bound address. */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    /** Stream subscribers connected now. */
    int streamSubscribers() {
        return stream.subscribers();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        String method = exchange.getRequestMethod();
        try {
            if (!path.equals("/healthz") && !authorized(exchange)) {
                return;
            }
            switch (path) {
                case "/metrics" -> {
                    if (allow(exchange, "GET", "HEAD")) {
                        respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape());
                    }
                }
                case "/healthz" -> {
                    if (allow(exchange, "GET", "HEAD")) {
                        respond(exchange, 200, TEXT, "ok\n");
                    }
                }
                case "/readyz" -> {
                    if (allow(exchange, "GET", "HEAD")) {
                        readyz(exchange);
                    }
                }
                case "/admin/drain" -> {
                    if (allow(exchange, "POST")) {
                        drain(exchange);
                    }
                }
                case "/api/sessions" -> {
                    if (allow(exchange, "GET", "HEAD")) {
                        sessions(exchange);
                    }
                }
                case "/api/closes" -> {
                    if (allow(exchange, "GET", "HEAD")) {
                        closes(exchange);
                    }
                }
                case "/api/closes/stream" -> {
                    if (allow(exchange, "GET")) {
                        stream(exchange);
                    }
                }
                case "/api/codes" -> {
                    if (allow(exchange, "GET", "HEAD")) {
                        QueryParams.parse(exchange.getRequestURI(), Set.of());
                        respond(exchange, 200, JSON, AdminJson.write(new AdminJson.Codes(
                                catalog.entries().stream().map(AdminJson.CodeView::of).toList(),
                                catalog.ranges().stream().map(AdminJson.CodeView::of).toList())));
                    }
                }
                default -> respond(exchange, 404, TEXT, "not found: " + path + " (expected one of: " + PATHS + ")\n");
            }
        } catch (BadRequest e) {
            respond(exchange, 400, TEXT, e.getMessage() + "\n");
        } catch (IOException e) {
            LOG.debug("admin {} {}: client went away: {}", method, path, e.toString());
            exchange.close();
        } catch (RuntimeException e) {
            LOG.warn("admin {} {} failed", method, path, e);
            try {
                respond(exchange, 500, TEXT, "internal error: " + e + "\n");
            } catch (IOException | RuntimeException ignored) {
                // the response had already started; closing is all that is left
                exchange.close();
            }
        }
    }

    private boolean authorized(HttpExchange exchange) throws IOException {
        if (token == null) {
            return true;
        }
        String header = exchange.getRequestHeaders().getFirst("Authorization");
        if (header == null || header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            exchange.getResponseHeaders().set("WWW-Authenticate", REALM);
            respond(exchange, 401, TEXT, "unauthorized: no bearer token (expected: Authorization: Bearer <admin.token>)\n");
            return false;
        }
        byte[] given = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, token)) {
            exchange.getResponseHeaders().set("WWW-Authenticate", REALM + ", error=\"invalid_token\"");
            respond(exchange, 401, TEXT, "unauthorized: wrong bearer token (expected: the admin.token of the configuration)\n");
            return false;
        }
        return true;
    }

    private static boolean allow(HttpExchange exchange, String... methods) throws IOException {
        String method = exchange.getRequestMethod();
        for (String m : methods) {
            if (m.equals(method)) {
                return true;
            }
        }
        String allowed = String.join(", ", methods);
        exchange.getResponseHeaders().set("Allow", allowed);
        respond(exchange, 405, TEXT, "method not allowed: " + method + " (expected: " + allowed + ")\n");
        return false;
    }

    private void readyz(HttpExchange exchange) throws IOException {
        boolean ready;
        try {
            ready = readiness.getAsBoolean();
        } catch (RuntimeException e) {
            LOG.warn("readiness check failed; answering 503", e);
            ready = false;
        }
        if (ready) {
            respond(exchange, 200, TEXT, "ready\n");
        } else {
            respond(exchange, 503, TEXT, "draining\n");
        }
    }

    private void drain(HttpExchange exchange) throws IOException {
        Runnable hook = drainHook;
        if (hook == null) {
            respond(exchange, 501, TEXT, "drain: not available (expected: a drain hook set with "
                    + "CloseWatchApp.setDrainHook or AdminServer.setDrainHook)\n");
            return;
        }
        LOG.info("drain requested through the admin API from {}", exchange.getRemoteAddress());
        hook.run();
        respond(exchange, 202, TEXT, "draining\n");
    }

    private void sessions(HttpExchange exchange) throws IOException {
        QueryParams q = QueryParams.parse(exchange.getRequestURI(), Set.of("limit"));
        int limit = q.intIn("limit", 1, SESSIONS_MAX_LIMIT, SESSIONS_DEFAULT_LIMIT);
        List<WebSocketSession> open = observability.openSessions().snapshot();
        Instant now = Instant.now();
        List<AdminJson.SessionView> views = open.stream()
                .sorted(Comparator.comparing(WebSocketSession::openedAt).thenComparing(WebSocketSession::id))
                .limit(limit)
                .map(s -> AdminJson.SessionView.of(s, now))
                .toList();
        respond(exchange, 200, JSON, AdminJson.write(new AdminJson.Sessions(open.size(), views)));
    }

    private void closes(HttpExchange exchange) throws IOException {
        QueryParams q = QueryParams.parse(exchange.getRequestURI(), Set.of("code", "initiator", "limit"));
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
        respond(exchange, 200, JSON, AdminJson.write(new AdminJson.Closes(views)));
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

    /**
     * Server-Sent Events (HTML Living Standard §9.2): a comment line at once (the subscription is
     * live from then on), then {@code event: close} per close event, {@code event: dropped} when
     * this subscriber's queue overflowed, and a comment line every
     * {@value #STREAM_HEARTBEAT_SECONDS} s of silence. Runs until the client goes away or the
     * server closes, holding this admin thread.
     */
    private void stream(HttpExchange exchange) throws IOException {
        QueryParams.parse(exchange.getRequestURI(), Set.of());
        CloseEventStream.Subscription subscription = stream.subscribe();
        if (subscription == null) {
            respond(exchange, 503, TEXT, "stream: " + stream.maxSubscribers() + " subscribers connected already"
                    + " (expected: at most admin.max_streams = " + stream.maxSubscribers() + ")\n");
            return;
        }
        try (subscription) {
            exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            exchange.getResponseHeaders().set("Cache-Control", "no-cache");
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            write(out, ": closewatch close events\n\n");
            long droppedReported = 0;
            while (!subscription.isClosed()) {
                List<CloseEvent> events = subscription.poll(STREAM_HEARTBEAT_SECONDS, TimeUnit.SECONDS);
                long dropped = subscription.dropped();
                StringBuilder sb = new StringBuilder();
                if (dropped != droppedReported) {
                    sb.append("event: dropped\ndata: ")
                            .append(AdminJson.write(new AdminJson.Dropped(dropped - droppedReported, dropped)))
                            .append("\n\n");
                    droppedReported = dropped;
                }
                for (CloseEvent e : events) {
                    sb.append("event: close\ndata: ").append(AdminJson.write(AdminJson.CloseView.of(e))).append("\n\n");
                }
                if (sb.length() == 0) {
                    sb.append(":\n\n");
                }
                write(out, sb.toString());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            exchange.close();
        }
    }

    private static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        boolean head = "HEAD".equals(exchange.getRequestMethod());
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
        exchange.close();
    }

    /** Stops listening, ends every stream, and stops the admin threads. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        observability.removeCloseConsumer(stream);
        stream.closeAll();
        server.stop(0);
        executor.shutdownNow();
    }

    @Override
    public String toString() {
        return "AdminServer[" + address() + ", token " + (token == null ? "off" : "required") + "]";
    }
}
