package dev.closewatch.websocket;

/**
 * What the opening handshake said about a session's client, for reconnect tracking and top
 * offenders: immutable, taken from the request when the upstream's 101 arrives. Raw values: never
 * a metric label, and the reconnect tracker keeps only a hash of {@code clientKey}.
 *
 * @param clientKey the configured client key (address, header, cookie or query value), or null
 *                  when the request had none
 * @param clientIp  the client address without port (the real one behind PROXY protocol or
 *                  trusted {@code X-Forwarded-For}), e.g. {@code 203.0.113.7} or {@code 2001:db8::1}
 * @param userAgent the {@code User-Agent} header, or null
 * @param origin    the {@code Origin} header (RFC 6455 §4.1 item 8), or null
 * @param path      the request target's path without the query
 */
public record SessionFacts(String clientKey, String clientIp, String userAgent, String origin, String path) {

    /** No facts known (sessions built in tests, or before the proxy passed any). */
    public static final SessionFacts NONE = new SessionFacts(null, null, null, null, null);
}
