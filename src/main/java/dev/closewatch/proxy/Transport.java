package dev.closewatch.proxy;

import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.util.internal.PlatformDependent;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProvider;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.function.Supplier;

/**
 * The socket transport: native epoll where available (Linux x86_64), NIO otherwise, or NIO when
 * the system property {@code closewatch.transport=nio} asks for it.
 */
public record Transport(
        String name,
        Supplier<IoHandlerFactory> ioHandlerFactory,
        Class<? extends ServerChannel> serverChannel,
        Class<? extends SocketChannel> socketChannel,
        Class<? extends DatagramChannel> datagramChannel) {

    /**
     * Write-buffer water marks for both legs: 512 KiB / 1 MiB, so one 64 KiB read does not turn
     * the far side's reading off and on again (back-pressure still engages above 1 MiB queued).
     */
    public static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(512 * 1024, 1024 * 1024);

    /** Read buffers that grow to 256 KiB for streams of big frames and shrink back for small ones. */
    public static RecvByteBufAllocator newRecvAllocator() {
        return new AdaptiveRecvByteBufAllocator(64, 2048, 256 * 1024);
    }

    /**
     * Socket options of a relayed connection, set once per channel: the {@link #newRecvAllocator()
     * read policy}, and TCP keepalive only when wanted. {@code TCP_NODELAY} is already on (Netty's
     * default on Linux, for epoll and NIO alike), and keepalive already off, so neither costs a
     * {@code setsockopt} call per connection.
     */
    public static void configureSocket(Channel ch, boolean tcpKeepalive) {
        ch.config().setRecvByteBufAllocator(newRecvAllocator());
        if (!PlatformDependent.canEnableTcpNoDelayByDefault()) {
            ch.config().setOption(ChannelOption.TCP_NODELAY, true);
        }
        if (tcpKeepalive) {
            ch.config().setOption(ChannelOption.SO_KEEPALIVE, true);
        }
    }

    /** The best transport this machine offers. */
    public static Transport best() {
        if (!"nio".equals(System.getProperty("closewatch.transport")) && Epoll.isAvailable()) {
            return new Transport("epoll", EpollIoHandler::newFactory, EpollServerSocketChannel.class,
                    EpollSocketChannel.class, EpollDatagramChannel.class);
        }
        return new Transport("nio", NioIoHandler::newFactory, NioServerSocketChannel.class, NioSocketChannel.class,
                NioDatagramChannel.class);
    }

    /**
     * An asynchronous DNS resolver for upstream host names (RFC 1035 over UDP, the system's
     * resolv.conf servers), so a slow lookup never blocks an event loop. It asks for A and AAAA
     * records (IPv4 first) and caches each answer for its TTL. The hosts file is not consulted
     * here: {@link UpstreamResolver} reads it itself, every entry of a name and periodically.
     */
    public DnsAddressResolverGroup newResolver() {
        return newResolver(DnsServerAddressStreamProviders.platformDefault());
    }

    /** {@link #newResolver()} asking {@code nameServers} (tests: a DNS server on loopback). */
    DnsAddressResolverGroup newResolver(DnsServerAddressStreamProvider nameServers) {
        return new DnsAddressResolverGroup(new DnsNameResolverBuilder()
                .datagramChannelType(datagramChannel)
                .resolvedAddressTypes(ResolvedAddressTypes.IPV4_PREFERRED)
                .hostsFileEntriesResolver((host, types) -> null)
                .nameServerProvider(nameServers));
    }

    /** A new event loop group of {@code threads} threads on this transport. */
    public EventLoopGroup newGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, ioHandlerFactory.get());
    }
}
