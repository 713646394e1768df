package dev.closewatch.config;

import java.time.Duration;

/**
 * Graceful drain, on SIGTERM or {@code POST /admin/drain}: {@code /readyz} turns unready, the
 * listener stops accepting, and every open session gets a Close frame from the proxy at a frame
 * boundary (to the client unmasked, to the upstream masked with a fresh masking key).
 *
 * @param timeout   how long to wait for the close handshakes before closing what is left
 *                  (default 10s)
 * @param closeCode 1012 Service Restart (default) or 1001 Going Away
 * @param reason    the close reason sent (default "service restart"; at most 123 bytes UTF-8)
 */
public record DrainConfig(Duration timeout, Integer closeCode, String reason) {

    public DrainConfig {
        timeout = timeout == null ? Duration.ofSeconds(10) : timeout;
        closeCode = closeCode == null ? 1012 : closeCode;
        reason = reason == null ? "service restart" : reason;
    }
}
