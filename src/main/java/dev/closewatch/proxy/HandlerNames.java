package dev.closewatch.proxy;

/** Pipeline handler names, in one place so pipeline surgery and tests agree. */
final class HandlerNames {
    static final String PROXY_PROTOCOL_DECODER = "proxy-protocol-decoder";
    static final String PROXY_PROTOCOL = "proxy-protocol";
    static final String TLS = "tls";
    static final String HTTP_SERVER_CODEC = "http-server-codec";
    static final String HTTP_CLIENT_CODEC = "http-client-codec";
    static final String FRONTEND = "frontend";
    static final String RELAY = "relay";

    private HandlerNames() {
    }
}
