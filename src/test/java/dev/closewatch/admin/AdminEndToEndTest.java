package dev.closewatch.admin;

import static dev.closewatch.admin.AdminHttp.JSON;
import static dev.closewatch.testing.Frames.TEXT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawClient;
import dev.closewatch.websocket.CloseEvent;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admin API of a real {@link dev.closewatch.cli.CloseWatchApp}, watching a real WebSocket
 * session through the proxy over loopback: listed while open, streamed and listed when it ends.
 */
class AdminEndToEndTest {

    private static ProxyHarness harness;
    private static AdminHttp http;

    @BeforeAll
    static void start() throws Exception {
        harness = ProxyHarness.start();
        http = new AdminHttp(harness.adminPort());
    }

    @AfterAll
    static void stop() throws Exception {
        harness.close();
    }

    @Test
    void shouldFollowARealSessionFromOpenToClose() throws Exception {
        // Given a subscriber, and a session that relayed "hi" both ways
        try (AdminHttp.Sse sse = http.stream().awaitOpen(); RawClient client = RawClient.open(harness.port(), "/chat")) {
            client.send(true, TEXT, "hi".getBytes(StandardCharsets.UTF_8));
            client.readFrame();

            // When it is listed while open
            JsonNode open = await().atMost(Duration.ofSeconds(10)).until(() -> http.json("/api/sessions"),
                    b -> b.get("count").asInt() == 1 && b.get("sessions").get(0).get("bytes_u2c").asLong() == 4);
            JsonNode session = open.get("sessions").get(0);
            assertEquals("default", session.get("route").asText());
            assertTrue(session.get("client").asText().startsWith("127.0.0.1:"), session.toString());
            assertEquals("127.0.0.1:" + harness.upstream.port(), session.get("upstream").asText());
            assertEquals(8, session.get("bytes_c2u").asLong());

            // and the client drops its TCP connection
            client.close();

            // Then the subscriber gets the 1006 as it happens, /api/closes lists it, /api/sessions no more
            String[] event = sse.nextEvent();
            CloseEvent ended = harness.nextEvent();
            assertEquals("close", event[0]);
            JsonNode data = JSON.readTree(event[1]);
            assertEquals(session.get("id").asText(), data.get("session").asText());
            assertEquals(ended.sessionId(), data.get("session").asText());
            assertEquals(1006, data.get("code").asInt());
            assertEquals("Abnormal Closure", data.get("name").asText());
            assertEquals("abnormal", data.get("category").asText());
            assertEquals("client", data.get("initiator").asText());
            assertEquals("fin", data.get("cause").asText());
            assertEquals(false, data.get("clean").asBoolean());
            assertEquals(8, data.get("bytes_c2u").asLong());
            assertEquals(4, data.get("bytes_u2c").asLong());
            assertEquals(data, http.json("/api/closes?code=1006&initiator=client&limit=1").get("closes").get(0));
            assertEquals(0, http.json("/api/sessions").get("count").asInt());
        }
    }

    @Test
    void shouldWireReadinessAndDrainThroughTheApp() throws Exception {
        // Given a ready app (its default hooks drain the real proxy: replaced here so the shared
        // harness keeps serving)
        assertEquals(200, http.get("/readyz").statusCode());
        AtomicBoolean draining = new AtomicBoolean();
        AtomicInteger drains = new AtomicInteger();
        harness.app.setReadiness(() -> !draining.get());
        harness.app.setDrainHook(() -> {
            drains.incrementAndGet();
            draining.set(true);
        });

        // When a drain is requested
        HttpResponse<String> drain = http.send("POST", "/admin/drain");

        // Then the hook ran once and /readyz says draining
        assertEquals(202, drain.statusCode());
        assertEquals(1, drains.get());
        HttpResponse<String> ready = http.get("/readyz");
        assertEquals(503, ready.statusCode());
        assertEquals("draining\n", ready.body());
        harness.app.setReadiness(() -> true);
    }

    @Test
    void shouldKeepTheAppsHealthProbesAnsweringWhileHalfHeadsHoldTheAdminPort() throws Exception {
        // Given 20 connections to the app's admin port that each sent half a request head and hold
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                Socket s = new Socket("127.0.0.1", harness.adminPort());
                s.getOutputStream().write("GET /metrics HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
                held.add(s);
            }

            // When a probe comes, reading with a 1 s timeout
            try (Socket probe = new Socket("127.0.0.1", harness.adminPort())) {
                probe.setSoTimeout(1000);
                probe.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                String answer = new String(probe.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);

                // Then it answers at once
                assertTrue(answer.startsWith("HTTP/1.1 200 OK\r\n"), answer);
                assertTrue(answer.endsWith("\r\n\r\nok\n"), answer);
            }
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    @Test
    void shouldServeTheAppsCatalog() throws Exception {
        assertEquals(harness.app.catalog().entries().size(), http.json("/api/codes").get("entries").size());
    }
}
