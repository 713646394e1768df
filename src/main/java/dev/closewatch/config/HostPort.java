package dev.closewatch.config;

import java.net.InetSocketAddress;

/**
 * A listen or connect address written {@code HOST:PORT} ({@code [::1]:PORT} for IPv6).
 *
 * @param host host name or IP literal, never empty
 * @param port 0–65535; 0 asks the OS for a free port (listen addresses only)
 */
public record HostPort(String host, int port) {

    /**
     * Parses {@code HOST:PORT}.
     *
     * @throws IllegalArgumentException with a message naming what was expected
     */
    public static HostPort parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("'' (expected: HOST:PORT, e.g. 127.0.0.1:8080)");
        }
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("'" + text + "' (expected: HOST:PORT, e.g. 127.0.0.1:8080)");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' (expected: a port number 0-65535 after the colon)");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("'" + text + "' (expected: a port number 0-65535 after the colon)");
        }
        return new HostPort(host, port);
    }

    /** An unresolved socket address for this host and port. */
    public InetSocketAddress toSocketAddress() {
        return new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
