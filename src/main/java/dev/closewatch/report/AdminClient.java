package dev.closewatch.report;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.closewatch.config.HostPort;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads one running closewatch's admin API over HTTP/1.1 ({@code GET /api/summary},
 * {@code /api/diagnosis}, {@code /api/reconnects}, {@code /api/top}) with the JDK's
 * {@link HttpClient}, sending {@code Authorization: Bearer <token>} (RFC 6750 §2.1) when a token is
 * given. Plain HTTP: the admin server has no TLS of its own.
 */
public final class AdminClient {

    /** The top-offender dimensions asked for, as {@code /api/top?by=} names them. */
    public static final List<String> DIMENSIONS = List.of("client", "network", "user_agent", "origin", "path");

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final HttpClient http;
    private final Duration timeout;
    private final String token;

    /**
     * @param timeout connect time limit, and again answer time limit, per request
     * @param token   the instances' {@code admin.token}, or null to send none; sent as is, so the
     *                caller checks it is an RFC 6750 {@code b64token}
     */
    public AdminClient(Duration timeout, String token) {
        this.timeout = requireNonNull(timeout, "timeout");
        this.token = token;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /**
     * Everything the report needs from one instance: its window summary, diagnosis and reconnect
     * behaviour, and the top {@code limit} offenders of each dimension for each close category the
     * summary names except {@code normal}.
     *
     * @throws AdminException naming the request and what went wrong (unreachable, timed out, a
     *                        status other than 200, not JSON)
     */
    public Instance read(HostPort admin, Duration window, int limit) throws AdminException {
        JsonNode summary = get(admin, "/api/summary?window=" + window.toSeconds() + "s");
        JsonNode diagnosis = get(admin, "/api/diagnosis");
        JsonNode reconnects = get(admin, "/api/reconnects");
        Map<String, Map<String, JsonNode>> top = new LinkedHashMap<>();
        for (JsonNode code : summary.path("by_code")) {
            String category = code.path("category").asText();
            if (category.equals("normal") || top.containsKey(category)) {
                continue;
            }
            Map<String, JsonNode> byDimension = new LinkedHashMap<>();
            for (String by : DIMENSIONS) {
                // The label comes from the instance's answer: encoded, so an odd one is asked for, not spliced in.
                byDimension.put(by, get(admin, "/api/top?by=" + by + "&category="
                        + URLEncoder.encode(category, StandardCharsets.UTF_8) + "&limit=" + limit));
            }
            top.put(category, byDimension);
        }
        return new Instance(admin.toString(), summary, diagnosis, reconnects, top);
    }

    /**
     * The URL of {@code pathAndQuery} on {@code admin}: {@code http://HOST:PORT/path?query}.
     *
     * @throws IllegalArgumentException if {@code pathAndQuery} does not make a URI (RFC 3986)
     */
    public static URI uri(HostPort admin, String pathAndQuery) {
        return URI.create("http://" + admin + pathAndQuery);
    }

    /**
     * One {@code GET} of {@code uri} with this client's timeout and token, redirects not followed;
     * the answer as it came, whatever its status.
     *
     * @throws java.net.http.HttpConnectTimeoutException if no connection is made within the timeout
     * @throws HttpTimeoutException if no answer comes within the timeout
     * @throws IOException          if the connection is refused or breaks
     * @throws InterruptedException if interrupted while waiting
     */
    public HttpResponse<String> send(URI uri) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri));
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        request.timeout(timeout).GET();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** One {@code GET}, parsed as JSON. */
    JsonNode get(HostPort admin, String pathAndQuery) throws AdminException {
        URI uri;
        try {
            uri = uri(admin, pathAndQuery);
        } catch (IllegalArgumentException e) {
            throw new AdminException("http://" + admin + pathAndQuery + ": not a URL (" + e.getMessage() + ")");
        }
        HttpResponse<String> response;
        try {
            response = send(HttpRequest.newBuilder(uri).header("Accept", "application/json"));
        } catch (HttpConnectTimeoutException e) {
            throw new AdminException(uri + ": no connection within " + timeout.toSeconds() + " s");
        } catch (HttpTimeoutException e) {
            throw new AdminException(uri + ": no answer within " + timeout.toSeconds() + " s");
        } catch (IOException e) {
            throw new AdminException(uri + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AdminException(uri + ": interrupted");
        }
        if (response.statusCode() != 200) {
            String body = response.body().strip();
            int newline = body.indexOf('\n');
            throw new AdminException(uri + ": " + response.statusCode() + " "
                    + (newline < 0 ? body : body.substring(0, newline)));
        }
        try {
            return MAPPER.readTree(response.body());
        } catch (JsonProcessingException e) {
            throw new AdminException(uri + ": not JSON (" + e.getOriginalMessage() + ")");
        }
    }

    /**
     * One instance's answers, as the admin API wrote them (see docs/admin-api.md).
     *
     * @param admin      the {@code HOST:PORT} asked
     * @param top        category label → dimension ({@link #DIMENSIONS}) → the {@code /api/top} answer
     */
    public record Instance(String admin, JsonNode summary, JsonNode diagnosis, JsonNode reconnects,
                           Map<String, Map<String, JsonNode>> top) {

        /** The categories asked for in {@link #top}, in the summary's order. */
        public List<String> topCategories() {
            return new ArrayList<>(top.keySet());
        }
    }

    /** An instance did not answer as expected; the message names the URL and the reason. */
    public static final class AdminException extends Exception {

        public AdminException(String message) {
            super(message, null, false, false);
        }
    }
}
