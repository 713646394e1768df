package dev.closewatch.proxy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.closewatch.config.HostPort;
import io.netty.channel.DefaultEventLoop;
import io.netty.resolver.DefaultAddressResolverGroup;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link UpstreamResolver}: IP literals, every hosts-file entry of a name, the file re-read after its interval. */
class UpstreamResolverTest {

    private final DefaultEventLoop loop = new DefaultEventLoop();
    private final AtomicLong now = new AtomicLong();

    @AfterEach
    void stop() {
        loop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
    }

    private static List<InetSocketAddress> get(Future<List<InetSocketAddress>> f) throws Exception {
        return f.get(5, TimeUnit.SECONDS);
    }

    private static InetSocketAddress at(String ip, int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(ip), port);
    }

    @Test
    void shouldAnswerEveryHostsFileEntryAndRereadTheFileAfterItsInterval(@TempDir Path dir) throws Exception {
        // Given a hosts file naming fleet.test twice, IPv4 and IPv6
        Path hosts = dir.resolve("hosts");
        Files.writeString(hosts, "127.0.0.1 fleet.test\n127.0.0.2 fleet.test other\n::1 fleet.test\n");
        UpstreamResolver resolver = new UpstreamResolver(DefaultAddressResolverGroup.INSTANCE, hosts, now::get);
        // When the name is resolved
        // Then every entry comes back, with the port
        assertEquals(List.of(at("127.0.0.1", 9000), at("127.0.0.2", 9000), at("::1", 9000)),
                get(resolver.resolveAll(loop, new HostPort("FLEET.test", 9000))));
        assertEquals(List.of(at("10.1.2.3", 80)), get(resolver.resolveAll(loop, new HostPort("10.1.2.3", 80))));
        // and when the file changes, the old entries hold until the refresh interval has passed
        Files.writeString(hosts, "127.0.0.3 fleet.test\n");
        now.addAndGet(UpstreamResolver.HOSTS_REFRESH.toNanos() - 1);
        assertEquals(3, get(resolver.resolveAll(loop, new HostPort("fleet.test", 9000))).size());
        now.addAndGet(1);
        resolver.resolveAll(loop, new HostPort("fleet.test", 9000));
        await().atMost(Duration.ofSeconds(5)).until(() -> get(resolver.resolveAll(loop, new HostPort("fleet.test", 9000)))
                .equals(List.of(at("127.0.0.3", 9000))));
    }
}
