package dev.closewatch.config;

/**
 * The admin HTTP server ({@code /metrics}, {@code /healthz}).
 *
 * @param listen {@code HOST:PORT}; loopback by default so metrics are not exposed by accident
 */
public record AdminConfig(String listen) {

    public static final String DEFAULT_LISTEN = "127.0.0.1:9090";

    public AdminConfig {
        listen = listen == null ? DEFAULT_LISTEN : listen;
    }
}
