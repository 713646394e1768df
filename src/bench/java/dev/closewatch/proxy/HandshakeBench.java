package dev.closewatch.proxy;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.diagnose.Intermediaries;
import dev.closewatch.diagnose.SignatureDetector;
import dev.closewatch.observe.CloseLogger;
import dev.closewatch.observe.MeterNames;
import dev.closewatch.observe.Observability;
import dev.closewatch.observe.RecentCloses;
import dev.closewatch.observe.Registries;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * closewatch's own cost of one whole proxied WebSocket session, without the network: the client's
 * and the upstream's connections are {@link EmbeddedChannel}s, so no system call is made and what
 * is measured is the user-space work that the churn scenario's "CPU per session" adds to
 * {@code netty-tcp}'s: decode and check the upgrade request (RFC 9112, RFC 6455 §4.1), pick the
 * route, add the {@code X-Forwarded-*} lines, encode the request, decode and check the 101
 * (§4.2.2), switch both pipelines to the relay, observe a Close each way (§5.5.1), and record the
 * session's end (meters, diagnosis, the close line at its production level, the recent-closes ring).
 *
 * <p>One operation is one session; the gc profiler's {@code gc.alloc.rate.norm} is bytes allocated
 * per session. Built like the proxy itself ({@code ProxyServer.start}, {@code CloseWatchApp}) from
 * {@link CloseWatchConfig#defaults()}, except for the stand-in connector. Its resolution is about
 * 1 % of a session, so it tells apart changes that the end-to-end churn rounds (± 5 % between
 * rounds on this machine) cannot; confirm a kept change there.
 *
 * <pre>java -cp BENCH_CLASSPATH org.openjdk.jmh.Main HandshakeBench -prof gc</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 10, time = 2)
@Fork(value = 2, jvmArgsAppend = {"-Xms512m", "-Xmx512m", "-Dlogback.configurationFile=src/bench/resources/bench-logback.xml"})
public class HandshakeBench {

    private static final String REQUEST = "GET /chat?room=7 HTTP/1.1\r\nHost: chat.example.com\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + "Origin: https://chat.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) bench/1.0\r\n\r\n";
    private static final String SWITCHING = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    /** Close 1000 from the client: masked (RFC 6455 §5.3), key 1 2 3 4. */
    private static final byte[] CLIENT_CLOSE = {(byte) 0x88, (byte) 0x82, 1, 2, 3, 4, 0x03 ^ 1, (byte) (0xE8 ^ 2)};
    /** Close 1000 from the upstream: unmasked. */
    private static final byte[] UPSTREAM_CLOSE = {(byte) 0x88, 0x02, 0x03, (byte) 0xE8};

    private final EmbeddedChannel[] upstream = new EmbeddedChannel[1];
    private ProxySettings settings;
    private ByteBuf request;
    private ByteBuf switching;
    private ByteBuf clientClose;
    private ByteBuf upstreamClose;
    private PrometheusMeterRegistry registry;
    private SignatureDetector diagnosis;
    private CloseLogger closeLogger;

    @Setup(Level.Trial)
    public void setUp() {
        CloseWatchConfig config = CloseWatchConfig.defaults().withUpstream("ws://127.0.0.1:9000");
        CloseCatalog catalog = CloseCatalog.loadDefault();
        registry = Registries.prometheus();
        closeLogger = new CloseLogger(config.log().normalLevel());
        Observability observability = new Observability(registry, closeLogger);
        observability.addCloseConsumer(new RecentCloses(config.admin().recentCloses()));
        diagnosis = SignatureDetector.start(config.diagnosis(), Intermediaries.loadDefault(), registry);
        observability.addCloseConsumer(diagnosis);
        observability.configureDiagnosis(config.reconnect());
        UpstreamConnector embedded = (client, address, initializer) -> {
            EmbeddedChannel up = new EmbeddedChannel();
            up.pipeline().addLast(initializer);
            upstream[0] = up;
            return up.newSucceededFuture();
        };
        settings = ProxyServer.settings(config, Transport.best(), catalog, ProxyServer.routes(config, catalog, observability),
                observability, null, null, embedded);
        request = Unpooled.unreleasableBuffer(Unpooled.copiedBuffer(REQUEST, StandardCharsets.ISO_8859_1));
        switching = Unpooled.unreleasableBuffer(Unpooled.copiedBuffer(SWITCHING, StandardCharsets.ISO_8859_1));
        clientClose = Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(CLIENT_CLOSE));
        upstreamClose = Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(UPSTREAM_CLOSE));
        // Every session must end as a clean 1000 from the client, or the figure means nothing.
        for (int i = 0; i < 3; i++) {
            session(null);
        }
        Counter closes = registry.find(MeterNames.CLOSES).tag("code", "1000").tag("initiator", "client").counter();
        if (closes == null || closes.count() != 3 || !settings.sessions().isEmpty() || settings.connections().get() != 0) {
            throw new IllegalStateException("a benchmark session did not end as a counted 1000 from the client: "
                    + registry.scrape());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        diagnosis.close();
        closeLogger.close();
    }

    /** One session: upgrade, 101, a Close each way, the upstream closes, the relay closes the client. */
    @Benchmark
    public void session(Blackhole bh) {
        EmbeddedChannel client = new EmbeddedChannel(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ProxyServer.initClientPipeline(ch, settings, null);
            }
        });
        client.writeInbound(request.duplicate());
        EmbeddedChannel up = upstream[0];
        drain(up, bh);
        up.writeInbound(switching.duplicate());
        drain(client, bh);
        client.writeInbound(clientClose.duplicate());
        drain(up, bh);
        up.writeInbound(upstreamClose.duplicate());
        drain(client, bh);
        up.close();
        client.runPendingTasks();
        up.finishAndReleaseAll();
        client.finishAndReleaseAll();
    }

    private static void drain(EmbeddedChannel ch, Blackhole bh) {
        Object o;
        while ((o = ch.readOutbound()) != null) {
            ByteBuf buf = (ByteBuf) o;
            if (bh != null) {
                bh.consume(buf.readableBytes());
            }
            buf.release();
        }
    }
}
