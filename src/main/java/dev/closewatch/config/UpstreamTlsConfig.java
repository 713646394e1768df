package dev.closewatch.config;

/**
 * TLS for {@code wss://} upstreams: certificates are verified against the system trust store,
 * or {@code ca} if given, and the host name is checked; SNI carries the upstream's host name.
 *
 * @param ca       PEM file of CA certificates to trust instead of the system's
 * @param insecure skip certificate verification (test setups only; logged as a warning)
 */
public record UpstreamTlsConfig(String ca, Boolean insecure) {

    public UpstreamTlsConfig {
        insecure = insecure != null && insecure;
    }
}
