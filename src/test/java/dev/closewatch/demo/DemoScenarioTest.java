package dev.closewatch.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.closewatch.cli.CloseWatchApp;
import dev.closewatch.testing.Accounting;
import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.CustomCodeConfig;
import dev.closewatch.websocket.CloseEvent;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every scenario of the demo's traffic mix, end to end: the JDK's WebSocket client → closewatch →
 * the embedded Netty echo upstream; closewatch must record exactly the code and initiator the
 * scenario produces.
 */
class DemoScenarioTest {

    private static EchoUpstream upstream;
    private static CloseWatchApp app;
    private static TrafficMix traffic;
    private static Accounting accounting;
    private static final LinkedBlockingQueue<CloseEvent> EVENTS = new LinkedBlockingQueue<>();

    @BeforeAll
    static void start() throws Exception {
        upstream = EchoUpstream.start(0);
        CloseWatchConfig config = CloseWatchConfig.defaults().withListen("127.0.0.1:0").withAdmin("127.0.0.1:0")
                .withUpstream("ws://127.0.0.1:" + upstream.address().getPort());
        config = config.withCodes(List.of(new CustomCodeConfig(4001, "Token Expired", null, null, null, null, "Refresh.")));
        app = CloseWatchApp.start(config);
        accounting = Accounting.attach(app);
        app.observability().addCloseConsumer(EVENTS::add);
        traffic = new TrafficMix(URI.create("ws://127.0.0.1:" + app.proxy().address().getPort() + "/demo"));
    }

    @AfterAll
    static void stop() {
        traffic.close();
        try {
            // Every ending of the demo's mix keeps the accounting invariants (see Accounting).
            accounting.assertBalanced(Duration.ofSeconds(10));
        } finally {
            app.close();
            upstream.close();
        }
    }

    static Stream<Scenario> scenarios() {
        return Scenario.MIX.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void shouldRecordWhatTheScenarioDoes(Scenario scenario) throws Exception {
        // Given
        String label = scenario.code() == 4999 ? "4xxx" : Integer.toString(scenario.code());
        double before = count(label, scenario.initiator().label());
        // When
        var session = traffic.run(scenario);
        // Then
        CloseEvent event = EVENTS.poll(10, TimeUnit.SECONDS);
        session.get(10, TimeUnit.SECONDS);
        assertEquals(scenario.code(), event.code(), scenario.name());
        assertEquals(scenario.initiator(), event.initiator(), scenario.name());
        assertEquals(scenario.code() != 1006, event.clean(), scenario.name());
        assertEquals(before + 1, count(label, scenario.initiator().label()));
    }

    private static double count(String code, String initiator) {
        var c = app.registry().find("closewatch.closes").tag("code", code).tag("initiator", initiator).counter();
        return c == null ? 0 : c.count();
    }
}
