package dev.closewatch.proxy;

import static java.util.Objects.requireNonNull;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.HostPort;
import dev.closewatch.config.RouteConfig;
import dev.closewatch.config.UpstreamUri;
import dev.closewatch.observe.Observability;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyEventExecutorMetrics;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy listener: accepts clients, relays WebSocket handshakes and sessions to the routes'
 * upstreams, and records every session end through {@link Observability}.
 *
 * <p>One acceptor thread and one worker event loop per core; each client connection and its
 * upstream connection share one worker event loop.
 */
public final class ProxyServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ProxyServer.class);

    private final Transport transport;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel listener;
    private final ProxySettings settings;

    private ProxyServer(Transport transport, EventLoopGroup boss, EventLoopGroup workers, Channel listener,
                        ProxySettings settings) {
        this.transport = transport;
        this.boss = boss;
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
     * @throws java.net.BindException (sneakily, from Netty) if the address is in use
     */
    public static ProxyServer start(CloseWatchConfig config, CloseCatalog catalog, Observability observability)
            throws InterruptedException {
        requireNonNull(config, "config");
        List<Route> routes = new ArrayList<>();
        for (RouteConfig rc : config.routes()) {
            routes.add(new Route(rc.name(), rc.pathPrefix(), UpstreamUri.parse(rc.upstream()),
                    observability.route(rc.name()), observability.sessionListener(rc.name())));
        }
        Transport transport = Transport.best();
        ProxySettings settings = new ProxySettings(transport, catalog, new Routes(routes),
                config.upstream().connectTimeout(), config.upstream().responseTimeout());
        EventLoopGroup boss = transport.newGroup(1);
        EventLoopGroup workers = transport.newGroup(Runtime.getRuntime().availableProcessors());
        int maxLine = config.limits().maxInitialLineLength();
        int maxHeader = config.limits().maxHeaderSize();
        HostPort listen = HostPort.parse(config.listen());
        try {
            Channel listener = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(transport.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline()
                                    .addLast(HandlerNames.HTTP_SERVER_CODEC, new HttpServerCodec(maxLine, maxHeader, 8192))
                                    .addLast(HandlerNames.FRONTEND, new FrontendHandler(settings));
                        }
                    })
                    .bind(listen.toSocketAddress()).sync().channel();
            new NettyEventExecutorMetrics(workers).bindTo(observability.registry());
            if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider provider) {
                new NettyAllocatorMetrics(provider).bindTo(observability.registry());
            }
            ProxyServer server = new ProxyServer(transport, boss, workers, listener, settings);
            LOG.info("closewatch proxy listening on {} ({} transport); routes: {}", server.address(), transport.name(),
                    routes.stream().map(r -> r.name() + " " + r.pathPrefix() + " -> " + r.upstream()).toList());
            return server;
        } catch (InterruptedException | RuntimeException e) {
            boss.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** The bound listen address (with the real port when the configuration asked for port 0). */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** The socket transport in use: {@code epoll} or {@code nio}. */
    public String transportName() {
        return transport.name();
    }

    /** Stops accepting, closes every connection and waits for the event loops to end. */
    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    ProxySettings settings() {
        return settings;
    }
}
