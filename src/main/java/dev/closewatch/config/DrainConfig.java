package dev.closewatch.config;

import java.time.Duration;

/**
 * Graceful drain, on SIGTERM, SIGINT or {@code POST /admin/drain}, in three phases: {@code /readyz}
 * turns unready at once while the listener keeps serving for {@code unreadyDelay} (load balancers
 * and Kubernetes endpoints stop routing new clients first); then the listener closes and every
 * open session gets a Close frame from the proxy at a frame boundary (to the client unmasked, to
 * the upstream masked with a fresh masking key), the sessions in random order and their Closes
 * spread evenly over {@code spread}; then each session has {@code timeout} from its Close for the
 * close handshake before its connections are cut. A process orchestrator must allow
 * {@code unreadyDelay + spread + timeout} plus a margin before it kills the process.
 *
 * @param unreadyDelay how long the listener keeps accepting after {@code /readyz} turned 503
 *                     (default 5s; 0 = close at once)
 * @param spread       the window over which the sessions' Closes are spread evenly (default 10s;
 *                     0 = all at once)
 * @param timeout      how long after its Close a session may take for its close handshake before
 *                     its connections are cut (default 10s)
 * @param closeCode    1012 Service Restart (default) or 1001 Going Away
 * @param reason       the close reason sent (default "service restart"; at most 123 bytes UTF-8)
 * @param linger       how long {@code closewatch run} keeps the admin port serving after the drain
 *                     finished, so a last Prometheus scrape sees the final counts (default 0s:
 *                     exit at once); add it to the grace period
 */
public record DrainConfig(Duration unreadyDelay, Duration spread, Duration timeout, Integer closeCode, String reason,
                          Duration linger) {

    public DrainConfig {
        unreadyDelay = unreadyDelay == null ? Duration.ofSeconds(5) : unreadyDelay;
        spread = spread == null ? Duration.ofSeconds(10) : spread;
        timeout = timeout == null ? Duration.ofSeconds(10) : timeout;
        closeCode = closeCode == null ? 1012 : closeCode;
        reason = reason == null ? "service restart" : reason;
        linger = linger == null ? Duration.ZERO : linger;
    }

    /**
     * The longest a drain can take from its start to its last cut connection:
     * {@code unreadyDelay + spread + timeout}. Give the process at least this plus a margin
     * (Kubernetes {@code terminationGracePeriodSeconds}, compose {@code stop_grace_period}).
     */
    public Duration longest() {
        return unreadyDelay.plus(spread).plus(timeout);
    }
}
