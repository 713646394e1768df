package dev.closewatch.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** The tests' admin-API client: real loopback HTTP through {@link HttpClient}. */
final class AdminHttp {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final int port;
    private final String token;

    AdminHttp(int port, String token) {
        this.port = port;
        this.token = token;
    }

    AdminHttp(int port) {
        this(port, null);
    }

    /** The same server, with another (or no) bearer token. */
    AdminHttp withToken(String token) {
        return new AdminHttp(port, token);
    }

    HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
        return send("GET", pathAndQuery);
    }

    HttpResponse<String> send(String method, String pathAndQuery) throws IOException, InterruptedException {
        HttpRequest.Builder b = request(pathAndQuery).method(method, HttpRequest.BodyPublishers.noBody());
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** GETs {@code path}, asserts 200 and a JSON content type, and parses the body. */
    JsonNode json(String pathAndQuery) throws IOException, InterruptedException {
        HttpResponse<String> r = get(pathAndQuery);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(null));
        return JSON.readTree(r.body());
    }

    /** Subscribes to {@code /api/closes/stream}; the subscription is live once {@link Sse#awaitOpen()} returns. */
    Sse stream() {
        return new Sse(request("/api/closes/stream").GET().build());
    }

    private HttpRequest.Builder request(String pathAndQuery) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                .timeout(Duration.ofSeconds(10));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return names;
    }

    /** One Server-Sent Events subscription, its lines queued as they arrive by a reader thread. */
    static final class Sse implements AutoCloseable {

        /** Queued when the response body ends. */
        static final String END = "<end of stream>";

        private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final CompletableFuture<HttpResponse<Stream<String>>> response;

        Sse(HttpRequest request) {
            // ofLines completes with the response head, unlike fromLineSubscriber (with the body)
            response = HTTP.sendAsync(request, HttpResponse.BodyHandlers.ofLines());
            response.thenAccept(r -> {
                Thread reader = new Thread(() -> {
                    try (Stream<String> body = r.body()) {
                        body.forEach(lines::add);
                    } catch (RuntimeException e) {
                        // cancelled or reset: the stream is over either way
                    }
                    lines.add(END);
                }, "sse-reader");
                reader.setDaemon(true);
                reader.start();
            });
        }

        /** Waits for the response head and the opening comment line. */
        Sse awaitOpen() throws Exception {
            HttpResponse<Stream<String>> r = response.get(10, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode());
            assertEquals("text/event-stream; charset=utf-8", r.headers().firstValue("Content-Type").orElse(null));
            assertEquals(": closewatch close events", next());
            assertEquals("", next());
            return this;
        }

        /** The next line; fails after 10 s. */
        String next() throws InterruptedException {
            String line = lines.poll(10, TimeUnit.SECONDS);
            if (line == null) {
                throw new AssertionError("no Server-Sent Events line within 10 s");
            }
            return line;
        }

        /** The next event, skipping comment (heartbeat) lines: its {@code event:} and {@code data:} values. */
        String[] nextEvent() throws InterruptedException {
            String line = next();
            while (line.startsWith(":") || line.isEmpty()) {
                line = next();
            }
            String event = line;
            String data = next();
            assertEquals("", next(), "an event ends with a blank line");
            if (!event.startsWith("event: ") || !data.startsWith("data: ")) {
                throw new AssertionError("not an event: " + event + " / " + data);
            }
            return new String[] {event.substring("event: ".length()), data.substring("data: ".length())};
        }

        @Override
        public void close() {
            response.cancel(true);
            response.thenAccept(r -> r.body().close());
        }
    }
}
