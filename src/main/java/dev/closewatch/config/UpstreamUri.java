package dev.closewatch.config;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * An upstream written {@code ws://HOST[:PORT][/path]} or {@code wss://HOST[:PORT][/path]}; without
 * a port, {@code ws://} means 80 and {@code wss://} 443 (RFC 6455 §3). The path, if any, is
 * prefixed to every request path forwarded to this upstream.
 *
 * @param address where to connect
 * @param path    prefix without a trailing slash; "" for none
 * @param tls     whether to speak TLS to it ({@code wss://} or {@code https://})
 */
public record UpstreamUri(HostPort address, String path, boolean tls) {

    /**
     * Parses {@code ws://HOST[:PORT][/path]} (also {@code http://}, the same on the wire); the
     * port defaults to 80, or 443 for {@code wss://} and {@code https://}.
     *
     * @throws IllegalArgumentException with a message naming what was expected
     */
    public static UpstreamUri parse(String text) {
        String expected = " (expected: ws://HOST[:PORT][/path] or wss://HOST[:PORT][/path], e.g. ws://127.0.0.1:9000)";
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("''" + expected);
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("'" + text + "'" + expected);
        }
        String scheme = uri.getScheme();
        boolean tls = "wss".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme);
        if (!tls && !"ws".equalsIgnoreCase(scheme) && !"http".equalsIgnoreCase(scheme)) {
            throw new IllegalArgumentException("'" + text + "'" + expected);
        }
        if (uri.getHost() == null || uri.getPort() == 0 || uri.getPort() > 65535) {
            throw new IllegalArgumentException("'" + text + "'" + expected);
        }
        // RFC 6455 §3: without a port, ws:// means 80 and wss:// 443 (as http:// and https://).
        int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        String host = uri.getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new UpstreamUri(new HostPort(host, port), path, tls);
    }

    /** The request target to send upstream for a client request target. */
    public String target(String requestUri) {
        return path.isEmpty() ? requestUri : path + (requestUri.startsWith("/") ? requestUri : "/" + requestUri);
    }

    @Override
    public String toString() {
        return (tls ? "wss://" : "ws://") + address + path;
    }
}
