package dev.closewatch.proxy;

import static java.util.Objects.requireNonNull;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.HostPort;
import dev.closewatch.config.RouteConfig;
import dev.closewatch.config.TlsConfig;
import dev.closewatch.config.UpstreamTlsConfig;
import dev.closewatch.config.UpstreamUri;
import dev.closewatch.observe.Observability;
import dev.closewatch.observe.RequestRejections;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyEventExecutorMetrics;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy listener: accepts clients ({@code ws://}, or {@code wss://} with {@code tls}),
 * relays WebSocket handshakes and sessions to the routes' upstreams, and records every session
 * end through {@link Observability}. {@link #drain()} closes it gracefully.
 *
 * <p>One event loop per core, one of which also accepts; each client connection and its
 * upstream connection share one event loop.
 */
public final class ProxyServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ProxyServer.class);
    private static final String[] TLS_PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    /** ALPN: closewatch speaks HTTP/1.1 on both legs (the WebSocket opening handshake is HTTP/1.1, RFC 6455 §4.1). */
    private static final ApplicationProtocolConfig HTTP_1_1_ONLY = new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN, ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_1_1);

    private final Transport transport;
    private final EventLoopGroup workers;
    private final Channel listener;
    private final ProxySettings settings;

    private ProxyServer(Transport transport, EventLoopGroup workers, Channel listener,
                        ProxySettings settings) {
        this.transport = transport;
        this.workers = workers;
        this.listener = listener;
        this.settings = settings;
    }

    /**
     * Binds the proxy listener of a validated configuration.
     *
     * @param config        a configuration whose {@link CloseWatchConfig#validate()} is empty
     * @param catalog       classifies close codes (with the configuration's custom codes)
     * @param observability where metrics, logs and close events go
     * @throws InterruptedException if interrupted while binding
     * @throws IOException          if a TLS certificate, key or CA file cannot be read or used
     */
    public static ProxyServer start(CloseWatchConfig config, CloseCatalog catalog, Observability observability)
            throws InterruptedException, IOException {
        requireNonNull(config, "config");
        long backoff = config.upstream().failureBackoff().toNanos();
        List<Route> routes = new ArrayList<>();
        boolean anyTlsUpstream = false;
        for (RouteConfig rc : config.routes()) {
            List<UpstreamUri> ups = rc.allUpstreams().stream().map(UpstreamUri::parse).toList();
            anyTlsUpstream |= ups.stream().anyMatch(UpstreamUri::tls);
            CloseCatalog routeCatalog = catalog.withCustomCodes(
                    rc.codes().stream().map(dev.closewatch.config.CustomCodeConfig::toCloseCode).toList());
            UpstreamPool pool = new UpstreamPool(ups, backoff, System::nanoTime);
            for (UpstreamPool.Upstream u : pool.all()) {
                observability.route(rc.name()).upstream(u.label()).healthyAddresses(() -> pool.healthyAddresses(u));
            }
            routes.add(new Route(rc.name(), rc.pathPrefix(), rc.host(), pool, observability.route(rc.name()),
                    observability.sessionListener(rc.name()), routeCatalog,
                    RouteConfig.HOST_HEADER_UPSTREAM.equals(rc.hostHeader())));
        }
        SslContext serverTls = config.tls() == null ? null : serverTls(config.tls());
        SslContext upstreamTls = anyTlsUpstream ? upstreamTls(config.upstream().tls()) : null;
        Transport transport = Transport.best();
        DnsAddressResolverGroup resolver = transport.newResolver();
        UpstreamResolver upstreamResolver = new UpstreamResolver(resolver, UpstreamResolver.systemHostsFile(), System::nanoTime);
        ProxySettings settings = new ProxySettings(transport, catalog, new Routes(routes),
                config.upstream().connectTimeout(), config.upstream().responseTimeout(), config.limits(),
                config.keepalive(), config.drain(), upstreamTls, new RequestRejections(observability.registry()),
                ConcurrentHashMap.newKeySet(), new AtomicInteger(), new AtomicBoolean(), resolver,
                UpstreamConnector.sockets(transport, upstreamResolver, config.upstream().connectTimeout()),
                config.proxyProtocol(), TrustedProxies.parse(config.trustedProxies()));
        // The acceptor is one of the worker loops: no extra thread, no hand-off per connection.
        EventLoopGroup workers = transport.newGroup(Runtime.getRuntime().availableProcessors());
        HostPort listen = HostPort.parse(config.listen());
        try {
            Channel listener = new ServerBootstrap()
                    .group(workers, workers)
                    .channel(transport.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, Transport.WATER_MARK)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            Transport.configureSocket(ch, config.keepalive().tcpKeepalive());
                            initClientPipeline(ch, settings, serverTls);
                        }
                    })
                    .bind(listen.toSocketAddress()).sync().channel();
            // Every upstream's addresses, at start and then periodically: the healthy-address gauge
            // follows the records even while no client connects.
            EventLoop refresher = workers.next();
            refresher.scheduleAtFixedRate(() -> settings.routes().all().forEach(r -> r.upstreams().refresh(upstreamResolver, refresher)),
                    0, UpstreamResolver.HOSTS_REFRESH.toNanos(), TimeUnit.NANOSECONDS);
            new NettyEventExecutorMetrics(workers).bindTo(observability.registry());
            if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider provider) {
                new NettyAllocatorMetrics(provider).bindTo(observability.registry());
            }
            ProxyServer server = new ProxyServer(transport, workers, listener, settings);
            LOG.info("closewatch proxy listening on {}://{} ({} transport); routes: {}", serverTls == null ? "ws" : "wss",
                    BackendHandler.address(server.address()), transport.name(), routes.stream().map(r -> r.name() + " "
                            + (r.host() == null ? "" : r.host()) + r.pathPrefix() + " -> " + r.upstreams().all()).toList());
            return server;
        } catch (InterruptedException | RuntimeException e) {
            workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw e;
        }
    }

    /**
     * Sets up a client connection's pipeline: the PROXY protocol header's decoder when
     * {@code proxy_protocol} is on, TLS when {@code serverTls} is not null, the HTTP/1.1
     * server codec with strict decoding ({@code limits.max_initial_line_length},
     * {@code limits.max_header_size}; RFC 9112 line endings and message framing) and the
     * {@link FrontendHandler}. Socket options are the caller's.
     *
     * @param ch        a client channel, registered (a socket, or an {@code EmbeddedChannel} in tests)
     * @param settings  what every connection of the proxy shares
     * @param serverTls the proxy's server TLS context, or null for plain {@code ws://}
     */
    static void initClientPipeline(Channel ch, ProxySettings settings, SslContext serverTls) {
        if (settings.proxyProtocol()) {
            // Before TLS: the PROXY header is the first bytes of the TCP stream (v1 or v2, detected).
            ch.pipeline().addLast(HandlerNames.PROXY_PROTOCOL_DECODER, new HAProxyMessageDecoder())
                    .addLast(HandlerNames.PROXY_PROTOCOL, new ProxyProtocolHandler(settings.rejections()));
        }
        if (serverTls != null) {
            ch.pipeline().addLast(HandlerNames.TLS, serverTls.newHandler(ch.alloc()));
        }
        ch.pipeline()
                .addLast(HandlerNames.HTTP_SERVER_CODEC, new HttpServerCodec(FrontendHandler.strictDecoder(
                        settings.limits().maxInitialLineLength(), settings.limits().maxHeaderSize())))
                .addLast(HandlerNames.FRONTEND, new FrontendHandler(settings, serverTls != null));
    }

    private static SslContext serverTls(TlsConfig tls) throws IOException {
        SslContextBuilder builder;
        if (tls.pkcs12() != null) {
            try (InputStream in = new FileInputStream(tls.pkcs12())) {
                char[] password = tls.password() == null ? new char[0] : tls.password().toCharArray();
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(in, password);
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(store, password);
                builder = SslContextBuilder.forServer(kmf);
            } catch (GeneralSecurityException e) {
                throw new IOException("tls.pkcs12: '" + tls.pkcs12() + "' cannot be used: " + e.getMessage(), e);
            }
        } else {
            try {
                builder = SslContextBuilder.forServer(new File(tls.cert()), new File(tls.key()), tls.password());
            } catch (IllegalArgumentException e) {
                throw new IOException("tls.cert/tls.key: '" + tls.cert() + "', '" + tls.key() + "' cannot be used: "
                        + e.getMessage(), e);
            }
        }
        return builder.protocols(TLS_PROTOCOLS)
                .applicationProtocolConfig(HTTP_1_1_ONLY)
                .build();
    }

    private static SslContext upstreamTls(UpstreamTlsConfig tls) throws IOException {
        SslContextBuilder builder = SslContextBuilder.forClient().protocols(TLS_PROTOCOLS)
                .applicationProtocolConfig(HTTP_1_1_ONLY);
        if (tls.insecure()) {
            LOG.warn("upstream.tls.insecure is set: upstream certificates are NOT verified (test setups only)");
            builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
        } else if (tls.ca() != null) {
            try {
                builder.trustManager(new File(tls.ca()));
            } catch (IllegalArgumentException e) {
                throw new IOException("upstream.tls.ca: '" + tls.ca() + "' cannot be used: " + e.getMessage(), e);
            }
        }
        return builder.build();
    }

    /** The bound listen address (with the real port when the configuration asked for port 0). */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** The socket transport in use: {@code epoll} or {@code nio}. */
    public String transportName() {
        return transport.name();
    }

    /** Sessions open now. */
    public int openSessions() {
        return settings.sessions().size();
    }

    /** Whether a drain has started. */
    public boolean draining() {
        return settings.draining().get();
    }

    /**
     * Starts a graceful drain and returns at once: stops accepting, and sends every open session a
     * Close frame from the proxy ({@code drain.close_code}, at a frame boundary); sessions that
     * have not finished their close handshake by {@code drain.timeout} are closed. Idempotent.
     */
    public void drain() {
        if (!settings.draining().compareAndSet(false, true)) {
            return;
        }
        LOG.atInfo().addKeyValue("event", "proxy.drain").addKeyValue("sessions", settings.sessions().size())
                .addKeyValue("close_code", settings.drain().closeCode())
                .addKeyValue("timeout_ms", settings.drain().timeout().toMillis())
                .log("closewatch draining");
        listener.close();
        for (SessionControl control : Set.copyOf(settings.sessions())) {
            control.eventLoop().execute(control::drain);
        }
    }

    /**
     * Drains and waits until every session has ended, or {@code drain.timeout} plus a second.
     *
     * @return the number of sessions still open when it gave up (0 when all ended)
     * @throws InterruptedException if interrupted while waiting
     */
    public int drainAndAwait() throws InterruptedException {
        drain();
        long deadline = System.nanoTime() + settings.drain().timeout().plus(Duration.ofSeconds(1)).toNanos();
        while (!settings.sessions().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20); // polling a set that event loops empty; no condition to wait on here
        }
        return settings.sessions().size();
    }

    /** Stops accepting, closes every connection and waits for the event loops to end. */
    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        settings.resolver().close();
    }

    ProxySettings settings() {
        return settings;
    }
}
