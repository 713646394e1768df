package dev.closewatch.proxy;

import dev.closewatch.config.UpstreamUri;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.resolver.AddressResolverGroup;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * Opens the upstream connection of a client connection. The proxy uses {@link #sockets}; tests
 * and fuzzers put an {@code EmbeddedChannel} in its place, so the HTTP edge can be driven without
 * a network.
 */
@FunctionalInterface
interface UpstreamConnector {

    /**
     * Connects to {@code target} on {@code client}'s event loop.
     *
     * @param client      the client connection the upstream connection belongs to
     * @param target      where to connect (host names are resolved by the connector)
     * @param initializer sets up the new channel's pipeline once it is registered
     * @return the connect future; its channel is the upstream connection
     */
    ChannelFuture connect(Channel client, UpstreamUri target, ChannelHandler initializer);

    /**
     * Real TCP connections: {@code transport}'s socket channel on the client's event loop, host
     * names through {@code resolver}, the connect bounded by {@code connectTimeout}.
     */
    static UpstreamConnector sockets(Transport transport, AddressResolverGroup<InetSocketAddress> resolver,
                                     Duration connectTimeout) {
        int timeoutMillis = (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis());
        return (client, target, initializer) -> new Bootstrap()
                .group(client.eventLoop())
                .channel(transport.socketChannel())
                .resolver(resolver)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMillis)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, Transport.WATER_MARK)
                .handler(initializer)
                .connect(InetSocketAddress.createUnresolved(target.address().host(), target.address().port()));
    }
}
