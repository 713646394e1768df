package dev.closewatch.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import dev.closewatch.testing.ProxyHarness;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Plain (non-upgrade) HTTP/1.1 through the proxy: keep-alive and chunked bodies, against the JDK's HTTP server. */
class HttpReverseProxyTest {

    private static HttpServer upstream;
    private static ProxyHarness harness;
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        upstream = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        upstream.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            String answer = exchange.getRequestMethod() + " " + exchange.getRequestURI() + " peer="
                    + exchange.getRemoteAddress().getPort() + " xff=" + exchange.getRequestHeaders().getFirst("X-Forwarded-For")
                    + " len=" + body.length + " sha=" + sha256(body);
            byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
            boolean chunked = exchange.getRequestURI().getPath().startsWith("/base/chunked");
            exchange.sendResponseHeaders(200, chunked ? 0 : bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        upstream.start();
        harness = ProxyHarness.start(c -> c.withUpstream("ws://127.0.0.1:" + upstream.getAddress().getPort() + "/base"));
    }

    @AfterAll
    static void stop() throws Exception {
        harness.close();
        upstream.stop(0);
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String[] fields(String body) {
        return body.split(" ");
    }

    @Test
    void shouldProxyKeepAliveRequestsOverOneUpstreamConnection() throws Exception {
        // When two requests go over one client connection
        URI uri = URI.create("http://127.0.0.1:" + harness.port() + "/hello?x=1");
        HttpResponse<String> first = CLIENT.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> second = CLIENT.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
        // Then both reach the upstream, path prefixed with the upstream's path, on the same upstream connection
        assertEquals(200, first.statusCode());
        assertEquals("GET", fields(first.body())[0]);
        assertEquals("/base/hello?x=1", fields(first.body())[1]);
        assertEquals("xff=127.0.0.1", fields(first.body())[3]);
        assertEquals(fields(first.body())[2], fields(second.body())[2], "same upstream connection (keep-alive)");
    }

    @Test
    void shouldProxyChunkedBodiesBothWays() throws Exception {
        // Given a 300 KiB body of unknown length (sent chunked)
        byte[] body = new byte[300 * 1024];
        new Random(7).nextBytes(body);
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + harness.port() + "/chunked/upload"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))).build();
        // When
        HttpResponse<String> response = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
        // Then the upstream got every byte, and its chunked answer came back whole
        assertEquals(200, response.statusCode());
        assertEquals("POST", fields(response.body())[0]);
        assertEquals("len=" + body.length, fields(response.body())[4]);
        assertEquals("sha=" + sha256(body), fields(response.body())[5]);
    }

    @Test
    void shouldKeepTheUpstreamsChunkedFraming() throws Exception {
        // When a raw client asks for a response the upstream sends chunked
        try (dev.closewatch.testing.RawClient raw = dev.closewatch.testing.RawClient.connect(harness.port())) {
            raw.writeAscii("GET /chunked/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            dev.closewatch.testing.RawSocket.Head head = raw.readHead();
            // Then
            assertEquals(200, head.status());
            assertEquals("chunked", head.headers().get("transfer-encoding"), head.toString());
        }
    }

    @Test
    void shouldAnswerPipelinedRequestsInOrder() throws Exception {
        // When a raw client pipelines two requests in one write
        try (dev.closewatch.testing.RawClient raw = dev.closewatch.testing.RawClient.connect(harness.port())) {
            raw.writeAscii("GET /one HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /two HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            // Then each gets its own response, in order
            for (String path : new String[] {"/base/one", "/base/two"}) {
                dev.closewatch.testing.RawSocket.Head head = raw.readHead();
                assertEquals(200, head.status());
                String body = new String(raw.readBytes(Integer.parseInt(head.headers().get("content-length"))),
                        StandardCharsets.UTF_8);
                assertEquals(path, fields(body)[1]);
            }
        }
    }
}
