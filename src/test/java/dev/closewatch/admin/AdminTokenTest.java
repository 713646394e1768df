package dev.closewatch.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.AdminConfig;
import dev.closewatch.observe.CloseLogger;
import dev.closewatch.observe.Observability;
import dev.closewatch.observe.RecentCloses;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.event.Level;

/** {@code admin.token}: a bearer token on every admin endpoint but {@code /healthz} (RFC 6750). */
class AdminTokenTest {

    private static final String TOKEN = "s3cr3t-t0ken-0123456789";

    private static PrometheusMeterRegistry registry;
    private static AdminServer admin;
    private static AdminHttp withToken;
    private static AdminHttp without;

    @BeforeAll
    static void start() throws Exception {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Observability observability = new Observability(registry, new CloseLogger(Level.DEBUG));
        RecentCloses recent = new RecentCloses(10);
        admin = AdminServer.start(new AdminConfig("127.0.0.1:0", TOKEN, 10, 2), registry, CloseCatalog.loadDefault(),
                observability, recent);
        admin.setDrainHook(() -> { });
        admin.setReloadHook(() -> new AdminServer.ReloadOutcome(true, "reloaded\n"));
        withToken = new AdminHttp(admin.address().getPort(), TOKEN);
        without = withToken.withToken(null);
    }

    @AfterAll
    static void stop() {
        admin.close();
        registry.close();
    }

    @ParameterizedTest
    @CsvSource({
        "GET, /metrics", "GET, /readyz", "GET, /api/sessions", "GET, /api/closes", "GET, /api/codes",
        "GET, /api/closes/stream", "POST, /admin/drain", "POST, /admin/reload", "GET, /nowhere",
    })
    void shouldAnswer401WithAChallengeWithoutAToken(String method, String path) throws Exception {
        // When
        HttpResponse<String> r = without.send(method, path);

        // Then
        assertEquals(401, r.statusCode());
        assertEquals("Bearer realm=\"closewatch admin\"", r.headers().firstValue("WWW-Authenticate").orElseThrow());
        assertEquals("unauthorized: no bearer token (expected: Authorization: Bearer <admin.token>)\n", r.body());
        assertFalse(r.body().contains(TOKEN));
    }

    @ParameterizedTest
    @ValueSource(strings = {"wrong", "s3cr3t-t0ken-012345678", "s3cr3t-t0ken-01234567890"})
    void shouldAnswer401ToAWrongToken(String token) throws Exception {
        // When
        HttpResponse<String> r = without.withToken(token).get("/api/closes");

        // Then
        assertEquals(401, r.statusCode());
        assertEquals("Bearer realm=\"closewatch admin\", error=\"invalid_token\"",
                r.headers().firstValue("WWW-Authenticate").orElseThrow());
        assertEquals("unauthorized: wrong bearer token (expected: the admin.token of the configuration)\n", r.body());
    }

    @ParameterizedTest
    @CsvSource({
        "GET, /metrics, 200", "GET, /readyz, 200", "GET, /api/sessions, 200", "GET, /api/closes, 200",
        "GET, /api/codes, 200", "POST, /admin/drain, 202", "POST, /admin/reload, 200", "GET, /nowhere, 404",
    })
    void shouldServeWithTheToken(String method, String path, int status) throws Exception {
        assertEquals(status, withToken.send(method, path).statusCode());
    }

    @Test
    void shouldStreamWithTheToken() throws Exception {
        try (AdminHttp.Sse sse = withToken.stream().awaitOpen()) {
            assertEquals(1, admin.streamSubscribers());
        }
    }

    @Test
    void shouldLeaveHealthzOpen() throws Exception {
        // When
        HttpResponse<String> r = without.get("/healthz");

        // Then
        assertEquals(200, r.statusCode());
        assertEquals("ok\n", r.body());
    }

    @Test
    void shouldAcceptTheSchemeInAnyCase() throws Exception {
        // When
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + admin.address().getPort() + "/readyz"))
                .header("Authorization", "bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());

        // Then
        assertEquals(200, r.statusCode());
        assertTrue(admin.toString().endsWith("token required]"), admin.toString());
    }
}
