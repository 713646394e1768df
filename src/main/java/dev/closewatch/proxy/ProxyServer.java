package dev.closewatch.proxy;

import static java.util.Objects.requireNonNull;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.HostPort;
import dev.closewatch.config.RouteConfig;
import dev.closewatch.config.TlsConfig;
import dev.closewatch.config.UpstreamTlsConfig;
import dev.closewatch.config.UpstreamUri;
import dev.closewatch.config.DrainConfig;
import dev.closewatch.observe.DrainMeters;
import dev.closewatch.observe.Observability;
import dev.closewatch.observe.RequestRejections;
import dev.closewatch.observe.TlsMeters;
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
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy listener: accepts clients ({@code ws://}, or {@code wss://} with {@code tls}),
 * relays WebSocket handshakes and sessions to the routes' upstreams, and records every session
 * end through {@link Observability}. {@link #drain()} closes it gracefully, spreading the
 * sessions' Closes over {@code drain.spread}.
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
    /** Set once a drain starts ({@code /readyz} 503); {@code settings.draining()} once sessions are closed. */
    private final AtomicBoolean drainStarted = new AtomicBoolean();
    private final CountDownLatch drainRequested = new CountDownLatch(1);
    private final CountDownLatch closingStarted = new CountDownLatch(1);
    private volatile long drainStartNanos;
    /** The settings new connections get; a reload swaps them, open connections keep theirs. */
    private final AtomicReference<ProxySettings> live;
    /** The listener's TLS context new connections get, or null for {@code ws://}; swapped when its files change. */
    private final AtomicReference<SslContext> liveServerTls;
    private final TlsReloader tlsReloader;
    private final Observability observability;
    /** Every address of the upstreams' host names; kept across reloads (its hosts-file view and DNS cache). */
    private final UpstreamResolver upstreamResolver;

    private ProxyServer(Transport transport, EventLoopGroup workers, Channel listener,
                        AtomicReference<ProxySettings> live, AtomicReference<SslContext> liveServerTls,
                        TlsReloader tlsReloader, Observability observability, UpstreamResolver upstreamResolver) {
        this.transport = transport;
        this.workers = workers;
        this.listener = listener;
        this.live = live;
        this.liveServerTls = liveServerTls;
        this.tlsReloader = tlsReloader;
        this.observability = observability;
        this.upstreamResolver = upstreamResolver;
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
        List<Route> routes = routes(config, catalog, observability);
        TlsReloader.Prepared tls = TlsReloader.prepare(config.tls(), config.upstream().tls(), anyTlsUpstream(config));
        SslContext serverTls = tls.server();
        SslContext upstreamTls = tls.upstream();
        Transport transport = Transport.best();
        DnsAddressResolverGroup resolver = transport.newResolver();
        UpstreamResolver upstreamResolver = new UpstreamResolver(resolver, UpstreamResolver.systemHostsFile(), System::nanoTime);
        ProxySettings settings = settings(config, transport, catalog, routes, observability, upstreamTls, resolver,
                UpstreamConnector.sockets(transport, upstreamResolver, config.upstream().connectTimeout()));
        observability.configureDiagnosis(config.reconnect());
        AtomicReference<ProxySettings> live = new AtomicReference<>(settings);
        AtomicReference<SslContext> liveServerTls = new AtomicReference<>(serverTls);
        TlsReloader tlsReloader = new TlsReloader(new TlsMeters(observability.registry(), Clock.systemUTC()),
                liveServerTls::set, ctx -> live.updateAndGet(s -> s.withUpstreamTls(ctx)));
        tlsReloader.commit(tls, () -> { });
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
                            ProxySettings current = live.get();
                            Transport.configureSocket(ch, current.keepalive().tcpKeepalive());
                            initClientPipeline(ch, current, liveServerTls.get());
                        }
                    })
                    .bind(listen.toSocketAddress()).sync().channel();
            // Every upstream's addresses, at start and then periodically: the healthy-address gauge
            // follows the records even while no client connects.
            EventLoop refresher = workers.next();
            refresher.scheduleAtFixedRate(() -> live.get().routes().all().forEach(r -> r.upstreams().refresh(upstreamResolver, refresher)),
                    0, UpstreamResolver.HOSTS_REFRESH.toNanos(), TimeUnit.NANOSECONDS);
            new NettyEventExecutorMetrics(workers).bindTo(observability.registry());
            if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider provider) {
                new NettyAllocatorMetrics(provider).bindTo(observability.registry());
            }
            ProxyServer server = new ProxyServer(transport, workers, listener, live, liveServerTls, tlsReloader,
                    observability, upstreamResolver);
            tlsReloader.start(TlsReloader.DEFAULT_INTERVAL);
            LOG.info("closewatch proxy listening on {}://{} ({} transport); routes: {}", serverTls == null ? "ws" : "wss",
                    BackendHandler.address(server.address()), transport.name(), routes.stream().map(r -> r.name() + " "
                            + (r.host() == null ? "" : r.host()) + r.pathPrefix() + " -> " + r.upstreams().all()).toList());
            return server;
        } catch (InterruptedException | RuntimeException e) {
            tlsReloader.close();
            workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw e;
        }
    }

    /**
     * The settings of a new proxy for {@code config}, with fresh shared state (no session or
     * connection yet, not draining).
     *
     * @param upstreamTls for {@code wss://} upstreams, or null when there is none
     * @param resolver    resolves upstream host names (closed by the proxy's owner)
     * @param connector   opens upstream connections
     */
    static ProxySettings settings(CloseWatchConfig config, Transport transport, CloseCatalog catalog, List<Route> routes,
                                  Observability observability, SslContext upstreamTls,
                                  AddressResolverGroup<InetSocketAddress> resolver, UpstreamConnector connector) {
        return new ProxySettings(transport, catalog, new Routes(routes),
                config.upstream().connectTimeout(), config.upstream().responseTimeout(), config.limits(),
                config.keepalive(), config.drain(), upstreamTls, new RequestRejections(observability.registry()),
                ConcurrentHashMap.newKeySet(), new AtomicInteger(), new AtomicBoolean(), resolver, connector,
                new DrainMeters(observability.registry()), config.proxyProtocol(),
                TrustedProxies.parse(config.trustedProxies()), config.reconnect().keySource());
    }

    /** The route table of {@code config}: each route's catalog is {@code catalog} plus the route's own codes. */
    static List<Route> routes(CloseWatchConfig config, CloseCatalog catalog, Observability observability) {
        long backoff = config.upstream().failureBackoff().toNanos();
        List<Route> routes = new ArrayList<>();
        for (RouteConfig rc : config.routes()) {
            List<UpstreamUri> ups = rc.allUpstreams().stream().map(UpstreamUri::parse).toList();
            CloseCatalog routeCatalog = catalog.withCustomCodes(
                    rc.codes().stream().map(dev.closewatch.config.CustomCodeConfig::toCloseCode).toList());
            UpstreamPool pool = new UpstreamPool(ups, backoff, System::nanoTime);
            for (UpstreamPool.Upstream u : pool.all()) {
                // A reload's new pool replaces the gauge's source (the meter itself stays registered).
                observability.route(rc.name()).upstream(u.label()).healthyAddresses(() -> pool.healthyAddresses(u));
            }
            routes.add(new Route(rc.name(), rc.pathPrefix(), rc.host(), pool, observability.route(rc.name()),
                    observability.sessionListener(rc.name()), routeCatalog,
                    RouteConfig.HOST_HEADER_UPSTREAM.equals(rc.hostHeader())));
        }
        return routes;
    }

    private static boolean anyTlsUpstream(CloseWatchConfig config) {
        return config.routes().stream().flatMap(rc -> rc.allUpstreams().stream()).map(UpstreamUri::parse)
                .anyMatch(UpstreamUri::tls);
    }

    /**
     * Applies a reloaded configuration to the connections accepted from now on: routes and their
     * upstreams, custom codes, upstream timeouts and TLS, limits, keepalive, drain settings, and the
     * listener's TLS files. Connections and sessions already open keep the settings they started
     * with. Shared state carries over: the open sessions, the connection count, the draining flag,
     * the meters. {@code listen} and switching {@code tls} on or off cannot change on a bound
     * listener: the caller reports them (see {@code ConfigReloader}); this method ignores them.
     *
     * @param config  a configuration whose {@link CloseWatchConfig#validate()} is empty
     * @param catalog the catalog with the configuration's top-level custom codes
     * @throws IOException if a TLS certificate, key or CA file cannot be read or used; nothing is
     *                     changed then
     */
    public synchronized void reconfigure(CloseWatchConfig config, CloseCatalog catalog) throws IOException {
        requireNonNull(config, "config");
        requireNonNull(catalog, "catalog");
        // TLS on a ws:// listener, or none on a wss:// one, waits for a restart: keep what is in use
        TlsConfig serverTls = liveServerTls.get() == null ? null
                : config.tls() != null ? config.tls() : tlsReloader.serverConfig();
        TlsReloader.Prepared tls = TlsReloader.prepare(serverTls, config.upstream().tls(), anyTlsUpstream(config));
        Routes routes = new Routes(routes(config, catalog, observability));
        ProxySettings old = live.get();
        ProxySettings next = old.reconfigured(catalog, routes, config.upstream().connectTimeout(),
                config.upstream().responseTimeout(), config.limits(), config.keepalive(), config.drain(), tls.upstream(),
                UpstreamConnector.sockets(transport, upstreamResolver, config.upstream().connectTimeout()),
                config.proxyProtocol(), TrustedProxies.parse(config.trustedProxies()));
        // under the reloader's lock, so a file change polled meanwhile cannot land on the new settings
        tlsReloader.commit(tls, () -> {
            live.set(next);
            if (tls.server() != null) {
                liveServerTls.set(tls.server());
            }
        });
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

    static SslContext serverTls(TlsConfig tls) throws IOException {
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

    static SslContext upstreamTls(UpstreamTlsConfig tls) throws IOException {
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
        return live.get().sessions().size();
    }

    /** Whether a drain has started: {@code /readyz} answers 503 from then on. */
    public boolean draining() {
        return drainStarted.get();
    }

    /**
     * Starts a graceful drain and returns at once; idempotent. {@link #draining()} is true from
     * now on ({@code /readyz} 503) while the listener keeps accepting and relaying for
     * {@code drain.unready_delay}, so load balancers stop routing new clients before any is refused.
     * Then the listener closes, and the sessions open then (those opened during the unready delay
     * included) get a Close frame from the proxy ({@code drain.close_code}, at a frame boundary)
     * in random order, spread evenly over {@code drain.spread}: session {@code i} of {@code n} at
     * {@code i * spread / n}. A session that has not finished its close handshake
     * {@code drain.timeout} after its Close is cut (both connections closed). A session whose
     * opening handshake completes after the listener closed gets its Close at once.
     */
    public void drain() {
        ProxySettings settings = live.get();
        if (!drainStarted.compareAndSet(false, true)) {
            return;
        }
        drainStartNanos = System.nanoTime();
        DrainConfig drain = settings.drain();
        settings.drainMeters().phase(DrainMeters.Phase.UNREADY);
        LOG.atInfo().addKeyValue("event", "proxy.drain").addKeyValue("sessions", settings.sessions().size())
                .addKeyValue("close_code", drain.closeCode())
                .addKeyValue("unready_delay_ms", drain.unreadyDelay().toMillis())
                .addKeyValue("spread_ms", drain.spread().toMillis())
                .addKeyValue("timeout_ms", drain.timeout().toMillis())
                .log("closewatch draining");
        drainRequested.countDown();
        listener.eventLoop().schedule(this::closeSessions, drain.unreadyDelay().toNanos(), TimeUnit.NANOSECONDS);
    }

    /** After the unready delay: stops accepting and schedules every open session's Close over the spread. */
    private void closeSessions() {
        ProxySettings settings = live.get();
        DrainConfig drain = settings.drain();
        // From here on a request on a kept-alive connection gets 503, and a session whose 101
        // arrives now is closed at once (BackendHandler).
        settings.draining().set(true);
        listener.close();
        List<SessionControl> open = new ArrayList<>(settings.sessions());
        // Random order: no client is always the first (or the last) to be sent away.
        Collections.shuffle(open, ThreadLocalRandom.current());
        int n = open.size();
        long spread = drain.spread().toNanos();
        LOG.atInfo().addKeyValue("event", "proxy.drain.close").addKeyValue("sessions", n)
                .addKeyValue("spread_ms", drain.spread().toMillis())
                .log("closewatch stopped accepting; closing sessions");
        settings.drainMeters().phase(DrainMeters.Phase.CLOSING);
        for (int i = 0; i < n; i++) {
            SessionControl control = open.get(i);
            long at = spread * i / n;
            control.eventLoop().schedule(control::drain, at, TimeUnit.NANOSECONDS);
        }
        listener.eventLoop().schedule(() -> {
            if (settings.drainMeters().phase() == DrainMeters.Phase.CLOSING) {
                settings.drainMeters().phase(DrainMeters.Phase.AWAITING);
            }
        }, spread, TimeUnit.NANOSECONDS);
        closingStarted.countDown();
    }

    /**
     * What a drain came to: sessions the drain sent a Close that ended by themselves, and
     * sessions whose connections closewatch had to cut.
     *
     * @param drained sessions that ended within {@code drain.timeout} of their Close
     * @param cut     sessions closed by closewatch at {@code drain.timeout} or at the process's stop
     */
    public record DrainResult(long drained, long cut) {
    }

    /**
     * Waits for a drain to be started (by {@link #drain()}, from a signal or {@code POST /admin/drain})
     * and to finish: every session ended, or {@code drain.unready_delay + drain.spread +
     * drain.timeout} plus a second passed since its start, after which the sessions left are cut.
     *
     * @return how many drained sessions ended by themselves and how many were cut
     * @throws InterruptedException if interrupted while waiting
     */
    public DrainResult awaitDrain() throws InterruptedException {
        drainRequested.await();
        ProxySettings settings = live.get();
        DrainConfig drain = settings.drain();
        long deadline = drainStartNanos + drain.longest().plus(Duration.ofSeconds(1)).toNanos();
        closingStarted.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        while (!settings.sessions().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20); // polling a set that event loops empty; no condition to wait on here
        }
        if (!settings.sessions().isEmpty()) {
            LOG.atWarn().addKeyValue("event", "proxy.drain.cut").addKeyValue("sessions", settings.sessions().size())
                    .log("drain deadline passed: cutting the sessions left");
            for (SessionControl control : List.copyOf(settings.sessions())) {
                control.eventLoop().execute(control::cut);
            }
            long cutDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (!settings.sessions().isEmpty() && System.nanoTime() < cutDeadline) {
                Thread.sleep(20);
            }
        }
        settings.drainMeters().phase(DrainMeters.Phase.DONE);
        DrainResult result = new DrainResult(settings.drainMeters().drained(), settings.drainMeters().cut());
        LOG.atInfo().addKeyValue("event", "proxy.drain.done").addKeyValue("drained", result.drained())
                .addKeyValue("cut", result.cut())
                .addKeyValue("duration_ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - drainStartNanos))
                .log("closewatch drain finished");
        return result;
    }

    /**
     * Drains ({@link #drain()}) and waits for it to finish ({@link #awaitDrain()}).
     *
     * @return how many drained sessions ended by themselves and how many were cut
     * @throws InterruptedException if interrupted while waiting
     */
    public DrainResult drainAndAwait() throws InterruptedException {
        drain();
        return awaitDrain();
    }

    /** Stops accepting, closes every connection and waits for the event loops to end. */
    @Override
    public void close() {
        tlsReloader.close();
        listener.close().syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        live.get().resolver().close();
    }

    /** The settings new connections get now. */
    ProxySettings settings() {
        return live.get();
    }

}
