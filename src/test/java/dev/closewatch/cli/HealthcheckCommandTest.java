package dev.closewatch.cli;

import static dev.closewatch.testing.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.admin.AdminServer;
import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.AdminConfig;
import dev.closewatch.testing.CliRun;
import dev.closewatch.observe.BuildInfo;
import dev.closewatch.observe.CloseLogger;
import dev.closewatch.observe.Observability;
import dev.closewatch.observe.RecentCloses;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/**
 * {@code closewatch healthcheck} against a real admin server on 127.0.0.1 and against a dead port,
 * and {@code closewatch --version} from the build info.
 */
class HealthcheckCommandTest {

    private static final String TOKEN = "s3cret-token-0123456789";

    private PrometheusMeterRegistry registry;
    private AdminServer admin;
    private final AtomicBoolean ready = new AtomicBoolean(true);

    @BeforeEach
    void start() throws Exception {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        RecentCloses recent = new RecentCloses(5);
        admin = AdminServer.start(new AdminConfig("127.0.0.1:0", null, 5, 1), registry, CloseCatalog.loadDefault(),
                new Observability(registry, new CloseLogger(Level.DEBUG)), recent);
        admin.setReadiness(ready::get);
    }

    @AfterEach
    void stop() {
        admin.close();
        registry.close();
    }

    private String adminAddress() {
        return "127.0.0.1:" + admin.address().getPort();
    }

    @Test
    void shouldExitZeroWhenHealthzAnswers200() {
        // Given a running admin server
        // When the health check asks its /healthz
        CliRun r = run("healthcheck", "--admin", adminAddress());
        // Then it exits 0 and says what it saw
        assertEquals(0, r.exit(), r.err());
        assertEquals("http://" + adminAddress() + "/healthz: 200 ok\n", r.out());
    }

    @Test
    void shouldExitOneWhenReadyzAnswers503() {
        // Given an admin server that is draining (readiness false)
        ready.set(false);
        // When the health check asks /readyz, and /healthz
        CliRun readyz = run("healthcheck", "--admin", adminAddress(), "--path", "/readyz");
        CliRun healthz = run("healthcheck", "--admin", adminAddress());
        // Then /readyz's 503 is unhealthy, while the process itself is still healthy
        assertEquals(1, readyz.exit());
        assertTrue(readyz.err().contains("/readyz: 503 draining"), readyz.err());
        assertEquals(0, healthz.exit(), healthz.err());
    }

    @Test
    void shouldExitOneWhenNothingListens() throws Exception {
        // Given a loopback port nobody listens on
        int dead;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            dead = s.getLocalPort();
        }
        // When the health check asks it
        CliRun r = run("healthcheck", "--admin", "127.0.0.1:" + dead, "--timeout", "2");
        // Then it exits 1 and names the refused connection
        assertEquals(1, r.exit());
        assertTrue(r.err().startsWith("closewatch healthcheck: http://127.0.0.1:" + dead + "/healthz: java.net.ConnectException"),
                r.err());
    }

    @Test
    void shouldExitOneOnABadAddressOrPath() {
        CliRun address = run("healthcheck", "--admin", "nowhere");
        CliRun path = run("healthcheck", "--admin", adminAddress(), "--path", "healthz");
        assertEquals(1, address.exit());
        assertEquals("closewatch healthcheck: 'nowhere' (expected: HOST:PORT, e.g. 127.0.0.1:8080)\n", address.err());
        assertEquals(1, path.exit());
        assertEquals("closewatch healthcheck: --path: 'healthz' (expected: an absolute path such as /healthz)\n", path.err());
    }

    @Test
    void shouldSendTheTokenSoReadyzAnswersWhenTheAdminServerHasOne() throws Exception {
        // Given an admin server with an admin.token (every endpoint but /healthz needs it)
        AdminServer locked = AdminServer.start(new AdminConfig("127.0.0.1:0", TOKEN, 5, 1), registry,
                CloseCatalog.loadDefault(), new Observability(registry, new CloseLogger(Level.DEBUG)), new RecentCloses(5));
        Path file = Files.createTempFile("token", ".txt");
        try {
            Files.writeString(file, "\n" + TOKEN + "\n");
            String address = "127.0.0.1:" + locked.address().getPort();

            // When /readyz is asked without the token, with --token and with --token-file, and /healthz without
            CliRun without = run("healthcheck", "--admin", address, "--path", "/readyz");
            CliRun withToken = run("healthcheck", "--admin", address, "--path", "/readyz", "--token", TOKEN);
            CliRun withFile = run("healthcheck", "--admin", address, "--path", "/readyz", "--token-file", file.toString());
            CliRun healthz = run("healthcheck", "--admin", address);

            // Then only the tokenless /readyz is refused (401); /healthz needs none
            assertEquals(1, without.exit());
            assertTrue(without.err().startsWith("closewatch healthcheck: http://" + address + "/readyz: 401 unauthorized"),
                    without.err());
            assertEquals(0, withToken.exit(), withToken.err());
            assertEquals("http://" + address + "/readyz: 200 ready\n", withToken.out());
            assertEquals(0, withFile.exit(), withFile.err());
            assertEquals(withToken.out(), withFile.out());
            assertEquals(0, healthz.exit(), healthz.err());
        } finally {
            Files.delete(file);
            locked.close();
        }
    }

    @Test
    void shouldExitOneWithoutShowingItOnATokenFileThatHoldsNoBearerToken() throws Exception {
        // Given a token file of two lines (a line break would split the request head) and a missing one
        Path file = Files.createTempFile("token", ".txt");
        try {
            Files.writeString(file, TOKEN + "\nsecond-line\n");

            // When the health check is given them
            CliRun twoLines = run("healthcheck", "--admin", adminAddress(), "--token-file", file.toString());
            CliRun missing = run("healthcheck", "--admin", adminAddress(), "--token-file", file + ".missing");

            // Then it exits 1 (never picocli's 2, reserved by Docker) and names the file, not the token
            assertEquals(1, twoLines.exit());
            assertEquals("closewatch healthcheck: --token-file: " + file + ": <hidden, " + (TOKEN.length() + 12)
                    + " characters> (expected: a bearer token as in RFC 6750, A-Z a-z 0-9 - . _ ~ + / then any '=',"
                    + " like admin.token)\n", twoLines.err());
            assertEquals(1, missing.exit());
            assertTrue(missing.err().startsWith("closewatch healthcheck: --token-file: cannot read " + file + ".missing: "),
                    missing.err());
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void shouldPrintTheVersionAndRevisionOfTheBuild() {
        // When closewatch --version runs
        CliRun r = run("--version");
        // Then it prints the POM's version and the git revision Maven wrote into the build, not a literal
        BuildInfo info = BuildInfo.current();
        assertEquals(0, r.exit());
        assertEquals(System.getProperty("closewatch.expected.version"), info.version());
        assertTrue(Files.exists(Path.of(".git"))
                ? info.revision().matches("[0-9a-f]{40}") : info.revision().equals("unknown"), info.revision());
        assertEquals("closewatch " + info.version() + " (revision " + info.revision() + ")\n"
                + "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")\n", r.out());
    }
}
