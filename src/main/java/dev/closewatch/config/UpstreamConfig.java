package dev.closewatch.config;

import java.time.Duration;

/**
 * Upstream connection settings.
 *
 * @param connectTimeout  TCP connect limit; past it the next upstream is tried, then 502
 *                        (default 5s)
 * @param responseTimeout limit from the request's last byte to the response head; past it the
 *                        client gets 504 (default 30s)
 * @param failureBackoff  how long a route skips an upstream after a connect failure (default 10s)
 * @param tls             TLS settings for {@code wss://} upstreams
 */
public record UpstreamConfig(Duration connectTimeout, Duration responseTimeout, Duration failureBackoff,
                             UpstreamTlsConfig tls) {

    public UpstreamConfig {
        connectTimeout = connectTimeout == null ? Duration.ofSeconds(5) : connectTimeout;
        responseTimeout = responseTimeout == null ? Duration.ofSeconds(30) : responseTimeout;
        failureBackoff = failureBackoff == null ? Duration.ofSeconds(10) : failureBackoff;
        tls = tls == null ? new UpstreamTlsConfig(null, null) : tls;
    }

    /** Timeouts only, defaults for the rest. */
    public UpstreamConfig(Duration connectTimeout, Duration responseTimeout) {
        this(connectTimeout, responseTimeout, null, null);
    }
}
