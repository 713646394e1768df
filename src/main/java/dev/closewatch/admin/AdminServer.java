package dev.closewatch.admin;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.closewatch.config.HostPort;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP server (the JDK's {@code com.sun.net.httpserver}, on its own thread, away from
 * the proxy's event loops):
 * <ul>
 *   <li>{@code GET /metrics} — Prometheus text exposition format 0.0.4 of every meter;</li>
 *   <li>{@code GET /healthz} — 200 {@code ok} while the process runs;</li>
 *   <li>{@code GET /readyz} — 200 {@code ready} while the proxy accepts connections.</li>
 * </ul>
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

    private final HttpServer server;
    private final ExecutorService executor;

    private AdminServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /**
     * Binds the admin server.
     *
     * @throws IOException if the address cannot be bound
     */
    public static AdminServer start(HostPort listen, PrometheusMeterRegistry registry) throws IOException {
        requireNonNull(registry, "registry");
        HttpServer server = HttpServer.create(new InetSocketAddress(listen.host(), listen.port()), 64);
        server.createContext("/metrics", exchange -> {
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                respond(exchange, 405, "text/plain; charset=utf-8", "method not allowed\n");
                return;
            }
            respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape());
        });
        server.createContext("/healthz", exchange -> respond(exchange, 200, "text/plain; charset=utf-8", "ok\n"));
        server.createContext("/readyz", exchange -> respond(exchange, 200, "text/plain; charset=utf-8", "ready\n"));
        server.createContext("/", exchange -> respond(exchange, 404, "text/plain; charset=utf-8",
                "not found; try /metrics, /healthz or /readyz\n"));
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "closewatch-admin");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.start();
        AdminServer admin = new AdminServer(server, executor);
        LOG.info("closewatch admin listening on http://{}/metrics", HostPort.parse(listen.host() + ":" + admin.address().getPort()));
        return admin;
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

    /** The bound address. */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
