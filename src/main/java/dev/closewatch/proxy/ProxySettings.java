package dev.closewatch.proxy;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.ClientKeySource;
import dev.closewatch.config.DrainConfig;
import dev.closewatch.config.KeepaliveConfig;
import dev.closewatch.config.LimitsConfig;
import dev.closewatch.observe.DrainMeters;
import dev.closewatch.observe.RequestRejections;
import io.netty.handler.ssl.SslContext;
import io.netty.resolver.AddressResolverGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every connection handler of one proxy shares.
 *
 * @param transport       socket transport for upstream connections
 * @param catalog         classifies close codes
 * @param routes          route table
 * @param connectTimeout  upstream TCP connect limit (next upstream, then 502, past it)
 * @param responseTimeout limit from the request's end to the upstream's response head (504 past it)
 * @param limits          connection, handshake and frame limits
 * @param keepalive       Ping, idle and TCP keepalive settings
 * @param drain           graceful-drain settings (also the deadline of any close the proxy starts)
 * @param upstreamTls     client-side TLS context for {@code wss://} upstreams, or null if none is configured
 * @param rejections      counts requests the proxy answers itself
 * @param sessions        open sessions, for drain
 * @param connections     client connections open now
 * @param draining        set once a drain starts
 * @param resolver        resolves upstream host names without blocking an event loop
 * @param connector       opens upstream connections
 * @param drainMeters     the drain's phase gauge and its drained/cut session counters
 * @param proxyProtocol   every client connection starts with a PROXY protocol v1 or v2 header
 * @param trustedProxies  peers whose {@code X-Forwarded-*} headers are believed
 * @param keySource       where a session's reconnect key comes from ({@code reconnect.key}; not reloaded)
 */
record ProxySettings(Transport transport, CloseCatalog catalog, Routes routes, Duration connectTimeout,
                     Duration responseTimeout, LimitsConfig limits, KeepaliveConfig keepalive, DrainConfig drain,
                     SslContext upstreamTls, RequestRejections rejections, Set<SessionControl> sessions,
                     AtomicInteger connections, AtomicBoolean draining, AddressResolverGroup<InetSocketAddress> resolver,
                     UpstreamConnector connector, DrainMeters drainMeters, boolean proxyProtocol,
                     TrustedProxies trustedProxies, ClientKeySource keySource) {

    /**
     * These settings with a reloaded configuration's parts, for connections accepted from now on;
     * the shared state (open sessions, connection count, draining flag, rejections, resolver, drain
     * meters) carries over.
     */
    ProxySettings reconfigured(CloseCatalog catalog, Routes routes, Duration connectTimeout, Duration responseTimeout,
                               LimitsConfig limits, KeepaliveConfig keepalive, DrainConfig drain, SslContext upstreamTls,
                               UpstreamConnector connector, boolean proxyProtocol, TrustedProxies trustedProxies) {
        return new ProxySettings(transport, catalog, routes, connectTimeout, responseTimeout, limits, keepalive, drain,
                upstreamTls, rejections, sessions, connections, draining, resolver, connector, drainMeters,
                proxyProtocol, trustedProxies, keySource);
    }

    /** These settings with another upstream TLS context (its CA file changed on disk). */
    ProxySettings withUpstreamTls(SslContext upstreamTls) {
        return new ProxySettings(transport, catalog, routes, connectTimeout, responseTimeout, limits, keepalive, drain,
                upstreamTls, rejections, sessions, connections, draining, resolver, connector, drainMeters,
                proxyProtocol, trustedProxies, keySource);
    }

    /** Settings without PROXY protocol and without trusted proxies. */
    ProxySettings(Transport transport, CloseCatalog catalog, Routes routes, Duration connectTimeout,
                  Duration responseTimeout, LimitsConfig limits, KeepaliveConfig keepalive, DrainConfig drain,
                  SslContext upstreamTls, RequestRejections rejections, Set<SessionControl> sessions,
                  AtomicInteger connections, AtomicBoolean draining, AddressResolverGroup<InetSocketAddress> resolver,
                  UpstreamConnector connector, DrainMeters drainMeters) {
        this(transport, catalog, routes, connectTimeout, responseTimeout, limits, keepalive, drain, upstreamTls,
                rejections, sessions, connections, draining, resolver, connector, drainMeters, false, TrustedProxies.NONE,
                ClientKeySource.ADDRESS);
    }
}
