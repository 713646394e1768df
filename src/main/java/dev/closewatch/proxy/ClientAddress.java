package dev.closewatch.proxy;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * The address a client connection comes from, as far as closewatch itself can tell: the source
 * address of the connection's PROXY protocol header when {@code proxy_protocol} is on (the
 * balancer's view of the client), else the TCP peer. {@code X-Forwarded-For} is applied on top
 * of this, per request, by {@link TrustedProxies}.
 */
final class ClientAddress {

    /** Set by {@link ProxyProtocolHandler} from a PROXY header that names a TCP source. */
    static final AttributeKey<InetSocketAddress> PROXIED = AttributeKey.valueOf("closewatch.proxied-client");

    private ClientAddress() {
    }

    /** The connection's peer: the PROXY header's source, or the TCP peer. */
    static SocketAddress peer(Channel client) {
        InetSocketAddress proxied = client.attr(PROXIED).get();
        return proxied != null ? proxied : client.remoteAddress();
    }

    /** {@link #peer} formatted as the {@code client} field: {@code 203.0.113.7:51234}, {@code [2001:db8::1]:443}. */
    static String of(Channel client) {
        return BackendHandler.address(peer(client));
    }
}
