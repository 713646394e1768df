package dev.closewatch.proxy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.closewatch.config.HostPort;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsServerAddressStreamProvider;
import io.netty.resolver.dns.DnsServerAddresses;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Upstream names through real DNS (RFC 1035 over UDP) from a tiny DNS server on 127.0.0.1, with
 * the resolver closewatch builds ({@link Transport#newResolver}): every A record of a name comes
 * back, and a changed record set is seen once the old answer's TTL has run out.
 */
class UpstreamDnsTest {

    private final Transport transport = Transport.best();
    private final EventLoopGroup group = transport.newGroup(1);
    private final AtomicReference<List<String>> records = new AtomicReference<>(List.of("127.0.0.1", "127.0.0.2"));
    private final AtomicInteger queries = new AtomicInteger();

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Answers A queries for fleet.test with {@link #records} (TTL 1 s), anything else with no record. */
    private Channel dnsServer() throws InterruptedException {
        return new Bootstrap().group(group).channel(transport.datagramChannel())
                .handler(new ChannelInitializer<DatagramChannel>() {
                    @Override
                    protected void initChannel(DatagramChannel ch) {
                        ch.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(),
                                new SimpleChannelInboundHandler<DatagramDnsQuery>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) throws Exception {
                                        DnsQuestion question = query.recordAt(DnsSection.QUESTION);
                                        DatagramDnsResponse response = new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
                                        response.addRecord(DnsSection.QUESTION, question);
                                        if (question.type() == DnsRecordType.A && question.name().equals("fleet.test.")) {
                                            queries.incrementAndGet();
                                            for (String ip : records.get()) {
                                                response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(question.name(),
                                                        DnsRecordType.A, 1, Unpooled.wrappedBuffer(InetAddress.getByName(ip).getAddress())));
                                            }
                                        }
                                        ctx.writeAndFlush(response);
                                    }
                                });
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    private static InetSocketAddress at(String ip) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(ip), 9000);
    }

    @Test
    void shouldResolveEveryRecordAndFollowTheTtl() throws Exception {
        // Given a DNS server with two A records for fleet.test, TTL 1 s, and closewatch's resolver asking it
        Channel server = dnsServer();
        InetSocketAddress serverAddress = (InetSocketAddress) server.localAddress();
        DnsServerAddressStreamProvider only = host -> DnsServerAddresses.singleton(serverAddress).stream();
        DnsAddressResolverGroup dns = transport.newResolver(only);
        UpstreamResolver resolver = new UpstreamResolver(dns, null, System::nanoTime);
        EventLoop loop = group.next();
        HostPort target = new HostPort("fleet.test", 9000);
        try {
            // When the name is resolved twice within the TTL
            List<InetSocketAddress> first = resolver.resolveAll(loop, target).get(5, TimeUnit.SECONDS);
            List<InetSocketAddress> cached = resolver.resolveAll(loop, target).get(5, TimeUnit.SECONDS);
            // Then both records come back, the second time from the cache
            assertEquals(List.of(at("127.0.0.1"), at("127.0.0.2")), first.stream()
                    .sorted((a, b) -> a.getAddress().getHostAddress().compareTo(b.getAddress().getHostAddress())).toList());
            assertEquals(first, cached);
            assertEquals(1, queries.get());
            // and when the records change, the new set is used once the TTL has run out
            records.set(List.of("127.0.0.3"));
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                    .until(() -> resolver.resolveAll(loop, target).get(5, TimeUnit.SECONDS).equals(List.of(at("127.0.0.3"))));
        } finally {
            dns.close();
            server.close().sync();
        }
    }
}
