package dev.closewatch.config;

import java.time.Duration;

/**
 * Upstream timeouts.
 *
 * @param connectTimeout  TCP connect limit; past it the client gets 502 (default 5s)
 * @param responseTimeout limit from the request's last byte to the response head; past it the
 *                        client gets 504 (default 30s)
 */
public record UpstreamConfig(Duration connectTimeout, Duration responseTimeout) {

    public UpstreamConfig {
        connectTimeout = connectTimeout == null ? Duration.ofSeconds(5) : connectTimeout;
        responseTimeout = responseTimeout == null ? Duration.ofSeconds(30) : responseTimeout;
    }
}
