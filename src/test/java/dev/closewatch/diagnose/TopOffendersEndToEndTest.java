package dev.closewatch.diagnose;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.testing.Frames;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawClient;
import dev.closewatch.testing.WsFrame;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Top offenders end to end: raw clients on 127.0.0.1 behind a trusted proxy (their
 * {@code X-Forwarded-For} is the client address) open WebSocket sessions through closewatch and
 * drop them (1006) or close them cleanly (1000); {@code GET /api/top} ranks the heavy hitters.
 */
class TopOffendersEndToEndTest {

    private static final int OTHERS = 2000;
    private static final int OFFENDER = 300;
    private static final int CLEAN = 400;

    @Test
    void shouldRankTheOneClientAndUserAgentCausingMost1006sFirst() throws Exception {
        try (ProxyHarness proxy = ProxyHarness.start(c -> c.withTrustedProxies(List.of("127.0.0.1")))) {
            // Given 2000 clients with their own address (100 per /24) and User-Agent dropping one session each,
            // one client 203.0.113.66 with agent bad-bot/6.6 dropping 300, and good/1.0 closing 400 cleanly
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < OTHERS; i++) {
                int n = i;
                done.add(pool.submit(() -> session(proxy.port(), "10.1." + (n / 100) + "." + (n % 100), "agent/" + n, false)));
            }
            for (int i = 0; i < OFFENDER; i++) {
                done.add(pool.submit(() -> session(proxy.port(), "203.0.113.66", "bad-bot/6.6", false)));
            }
            for (int i = 0; i < CLEAN; i++) {
                int n = i;
                done.add(pool.submit(() -> session(proxy.port(), "192.0.2." + (n % 200), "good/1.0", true)));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();

            // When every session has ended
            await().atMost(30, TimeUnit.SECONDS).until(() -> proxy.count("closewatch.closes", "code", "1006") == OTHERS + OFFENDER
                    && proxy.count("closewatch.closes", "code", "1000") == CLEAN);

            // Then the offender is first by client, by /24 and by User-Agent among the abnormal ends
            String clients = get(proxy, "/api/top?by=client&category=abnormal&limit=2");
            assertTrue(clients.startsWith("{\"by\":\"client\",\"category\":\"abnormal\",\"window_seconds\":600,\"sessions\":2300,"), clients);
            assertTrue(clients.contains("\"top\":[{\"value\":\"203.0.113.66\",\"count\":3"), clients);
            String agents = get(proxy, "/api/top?by=user_agent&category=abnormal&limit=1");
            assertTrue(agents.contains("\"top\":[{\"value\":\"bad-bot/6.6\""), agents);
            String networks = get(proxy, "/api/top?by=network&category=abnormal&limit=1");
            assertTrue(networks.contains("\"top\":[{\"value\":\"203.0.113.0/24\""), networks);
            // and the clean closer is first among normal ends only
            assertTrue(get(proxy, "/api/top?by=user_agent&category=normal&limit=1")
                    .contains("\"top\":[{\"value\":\"good/1.0\",\"count\":400,\"lower_bound\":400,\"upper_bound\":400}]"));
            assertTrue(get(proxy, "/api/top?by=path&limit=1").contains("\"top\":[{\"value\":\"/chat\",\"count\":2700"));
            // and a bad parameter is a 400 naming what is expected
            assertEquals("by: 'cookie' (expected: client, network, user_agent, origin or path)\n",
                    get(proxy, "/api/top?by=cookie"));
        }
    }

    private static Void session(int port, String forwardedFor, String userAgent, boolean clean) throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            byte[] nonce = new byte[16];
            ThreadLocalRandom.current().nextBytes(nonce);
            c.writeAscii("GET /chat?token=secret HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\nSec-WebSocket-Version: 13\r\n"
                    + "User-Agent: " + userAgent + "\r\nX-Forwarded-For: " + forwardedFor + "\r\n\r\n");
            assertEquals(101, c.readHead().status());
            if (clean) {
                c.send(true, Frames.CLOSE, Frames.closeBody(1000, ""));
                WsFrame answer = c.readFrame();
                assertEquals(Frames.CLOSE, answer.opcode());
                c.readToEnd();
            }
        }
        return null;
    }

    private static String get(ProxyHarness proxy, String target) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort() + target))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
    }
}
