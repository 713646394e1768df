package dev.closewatch.proxy;

import dev.closewatch.config.HostPort;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.resolver.NoopAddressResolverGroup;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * Resolves upstream host names and opens the upstream connection of a client connection. The
 * proxy uses {@link #sockets}; tests and fuzzers put an {@code EmbeddedChannel} in its place, so
 * the HTTP edge can be driven without a network.
 */
@FunctionalInterface
interface UpstreamConnector {

    /**
     * Connects to {@code address} on {@code client}'s event loop.
     *
     * @param client      the client connection the upstream connection belongs to
     * @param address     a resolved address of the upstream
     * @param initializer sets up the new channel's pipeline once it is registered
     * @return the connect future; its channel is the upstream connection
     */
    ChannelFuture connect(Channel client, InetSocketAddress address, ChannelHandler initializer);

    /**
     * Every address of {@code target}, resolved without blocking {@code client}'s event loop. This
     * default answers the address unresolved, as written (for stand-ins that never touch a network).
     *
     * @return a future of at least one address, or failed (an {@code UnknownHostException}) when none
     */
    default Future<List<InetSocketAddress>> resolveAll(Channel client, HostPort target) {
        return client.eventLoop().newSucceededFuture(
                List.of(InetSocketAddress.createUnresolved(target.host(), target.port())));
    }

    /**
     * Real TCP connections: {@code transport}'s socket channel on the client's event loop, host
     * names through {@code resolver}, the connect bounded by {@code connectTimeout}.
     */
    static UpstreamConnector sockets(Transport transport, UpstreamResolver resolver, Duration connectTimeout) {
        int timeoutMillis = (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis());
        return new UpstreamConnector() {
            @Override
            public ChannelFuture connect(Channel client, InetSocketAddress address, ChannelHandler initializer) {
                return new Bootstrap()
                        .group(client.eventLoop())
                        .channel(transport.socketChannel())
                        // Addresses come resolved (every record, balanced by the pool): never resolved again here.
                        .resolver(NoopAddressResolverGroup.INSTANCE)
                        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMillis)
                        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, Transport.WATER_MARK)
                        .handler(initializer)
                        .connect(address);
            }

            @Override
            public Future<List<InetSocketAddress>> resolveAll(Channel client, HostPort target) {
                return resolver.resolveAll(client.eventLoop(), target);
            }
        };
    }
}
