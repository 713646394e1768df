package dev.closewatch.cli;

import dev.closewatch.config.HostPort;
import dev.closewatch.report.AdminClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code closewatch healthcheck} — the container's health check without {@code curl}: one HTTP/1.1
 * {@code GET} of the admin server's {@code /healthz} (or {@code --path /readyz}) with the JDK's
 * HTTP client ({@link AdminClient}). {@code /healthz} never needs the admin token; {@code /readyz}
 * does when {@code admin.token} is set, so {@code --token} or {@code --token-file} sends it. Exit
 * 0 on a 200 answer; 1 on any other status, a refused or timed-out connection, a bad address,
 * path or token (a bad value is 1, not picocli's 2, which Docker reserves in a {@code HEALTHCHECK}).
 */
@Command(name = "healthcheck", mixinStandardHelpOptions = true,
        description = "GET the admin server's /healthz (the container health check; no curl needed). "
                + "Exit 0 on 200, 1 otherwise.")
final class HealthcheckCommand implements Callable<Integer> {

    static final int HEALTHY = 0;
    static final int UNHEALTHY = 1;

    @Spec
    CommandSpec spec;

    @Option(names = "--admin", paramLabel = "HOST:PORT",
            defaultValue = "127.0.0.1:${env:CLOSEWATCH_ADMIN_PORT:-8081}",
            description = "admin address to ask (default: ${DEFAULT-VALUE}; the port from $CLOSEWATCH_ADMIN_PORT)")
    String admin;

    @Option(names = "--path", paramLabel = "PATH", defaultValue = "/healthz",
            description = "path to GET: /healthz (process up) or /readyz (taking new sessions); default: ${DEFAULT-VALUE}")
    String path;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "3",
            description = "connect plus answer time limit in seconds (default: ${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Mixin
    AdminTokenOptions token;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        URI uri;
        AdminClient client;
        try {
            if (timeoutSeconds < 1) {
                throw new IllegalArgumentException("--timeout: " + timeoutSeconds + " (expected: >= 1)");
            }
            if (!path.startsWith("/")) {
                throw new IllegalArgumentException("--path: '" + path + "' (expected: an absolute path such as /healthz)");
            }
            uri = AdminClient.uri(HostPort.parse(admin), path);
            client = new AdminClient(Duration.ofSeconds(timeoutSeconds), token.token());
        } catch (IllegalArgumentException e) {
            err.println("closewatch healthcheck: " + e.getMessage());
            return UNHEALTHY;
        }
        try {
            HttpResponse<String> response = client.send(uri);
            String body = response.body().strip();
            if (response.statusCode() == 200) {
                out.println(uri + ": " + response.statusCode() + " " + body);
                return HEALTHY;
            }
            err.println("closewatch healthcheck: " + uri + ": " + response.statusCode() + " " + body);
            return UNHEALTHY;
        } catch (IOException e) {
            err.println("closewatch healthcheck: " + uri + ": " + e);
            return UNHEALTHY;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("closewatch healthcheck: " + uri + ": interrupted");
            return UNHEALTHY;
        }
    }
}
