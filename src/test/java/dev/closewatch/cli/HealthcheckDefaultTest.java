package dev.closewatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.closewatch.config.AdminConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The container's health check ({@code closewatch healthcheck} with no {@code --admin}) must ask
 * where the admin server listens by default, and that default must not be Prometheus's own 9090.
 */
class HealthcheckDefaultTest {

    @Test
    void shouldAskTheAdminServersDefaultAddressWhenNoAdminIsGiven() {
        // Given no CLOSEWATCH_ADMIN_PORT in this environment (the image sets it; a test run does not)
        assumeTrue(System.getenv("CLOSEWATCH_ADMIN_PORT") == null, "CLOSEWATCH_ADMIN_PORT is set here");
        HealthcheckCommand healthcheck = new HealthcheckCommand();

        // When its arguments are parsed without --admin
        new CommandLine(healthcheck).parseArgs();

        // Then it asks 127.0.0.1:8081, the admin server's default listen address
        assertEquals("127.0.0.1:8081", healthcheck.admin);
        assertEquals(AdminConfig.DEFAULT_LISTEN, healthcheck.admin);
    }
}
