package dev.closewatch.observe.otlp;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.metrics.v1.Metric;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.zip.GZIPInputStream;

/**
 * An OTLP/HTTP receiver on 127.0.0.1 (an ephemeral port), as an OpenTelemetry Collector's
 * {@code otlphttp} receiver answers (OTLP specification, "OTLP/HTTP"): {@code POST /v1/metrics}
 * and {@code POST /v1/logs} with {@code Content-Type: application/x-protobuf}, decoded with the
 * official {@code opentelemetry-proto} classes; 200 with an empty export response. Anything else
 * (another path, method or content type, a body that does not decode) is answered 4xx and kept in
 * {@link #errors()}, which a test asserts empty.
 */
final class OtlpReceiver implements AutoCloseable {

    private final HttpServer server;
    private final ConcurrentLinkedQueue<ExportLogsServiceRequest> logs = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<ExportMetricsServiceRequest> metrics = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> authorizations = new ConcurrentLinkedQueue<>();

    /** What the receiver does before it reads a logs export request (to hold it, say). */
    @FunctionalInterface
    interface Hold {
        void await() throws InterruptedException;
    }

    private final Hold hold;

    OtlpReceiver() throws IOException {
        this(() -> { });
    }

    /** A receiver that calls {@code hold} before it reads each logs export request. */
    OtlpReceiver(Hold hold) throws IOException {
        this.hold = hold;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    /** {@code http://127.0.0.1:PORT/v1/logs} for {@code path} {@code /v1/logs}. */
    String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String type = exchange.getRequestHeaders().getFirst("Content-Type");
            if (!"POST".equals(exchange.getRequestMethod()) || !"application/x-protobuf".equals(type)) {
                reject(exchange, 415, exchange.getRequestMethod() + " " + path + " " + type);
                return;
            }
            if (path.equals("/v1/logs")) {
                try {
                    hold.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            if (auth != null) {
                authorizations.add(auth);
            }
            byte[] body;
            try (InputStream in = "gzip".equals(exchange.getRequestHeaders().getFirst("Content-Encoding"))
                    ? new GZIPInputStream(exchange.getRequestBody()) : exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            byte[] answer;
            switch (path) {
                case "/v1/logs" -> {
                    logs.add(ExportLogsServiceRequest.parseFrom(body));
                    answer = ExportLogsServiceResponse.getDefaultInstance().toByteArray();
                }
                case "/v1/metrics" -> {
                    metrics.add(ExportMetricsServiceRequest.parseFrom(body));
                    answer = ExportMetricsServiceResponse.getDefaultInstance().toByteArray();
                }
                default -> {
                    reject(exchange, 404, "POST " + path);
                    return;
                }
            }
            exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
            exchange.sendResponseHeaders(200, answer.length == 0 ? -1 : answer.length);
            exchange.getResponseBody().write(answer);
        } catch (IOException | RuntimeException e) {
            errors.add(e.toString());
            throw e;
        }
    }

    private void reject(HttpExchange exchange, int status, String what) throws IOException {
        errors.add(status + " " + what);
        exchange.sendResponseHeaders(status, -1);
    }

    /** Every log record received so far, in arrival order. */
    List<LogRecord> logRecords() {
        List<LogRecord> all = new ArrayList<>();
        logs.forEach(r -> r.getResourceLogsList().forEach(rl -> rl.getScopeLogsList()
                .forEach(sl -> all.addAll(sl.getLogRecordsList()))));
        return all;
    }

    /** The export requests for logs received so far. */
    List<ExportLogsServiceRequest> logRequests() {
        return List.copyOf(logs);
    }

    /** The export requests for metrics received so far. */
    List<ExportMetricsServiceRequest> metricRequests() {
        return List.copyOf(metrics);
    }

    /** The metrics named {@code name} in the latest metrics export request that has any, or an empty list. */
    List<Metric> latest(String name) {
        List<ExportMetricsServiceRequest> all = metricRequests();
        for (int i = all.size() - 1; i >= 0; i--) {
            List<Metric> found = new ArrayList<>();
            all.get(i).getResourceMetricsList().forEach(rm -> rm.getScopeMetricsList().forEach(sm -> sm.getMetricsList()
                    .stream().filter(m -> m.getName().equals(name)).forEach(found::add)));
            if (!found.isEmpty()) {
                return found;
            }
        }
        return List.of();
    }

    /** The {@code Authorization} values the exports sent. */
    List<String> authorizations() {
        return List.copyOf(authorizations);
    }

    /** Requests that were not proper OTLP/HTTP exports. */
    List<String> errors() {
        return List.copyOf(errors);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
