package dev.closewatch.observe;

import ch.qos.logback.classic.spi.ILoggingEvent;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.closewatch.catalog.CloseCode;
import dev.closewatch.catalog.Severity;
import dev.closewatch.websocket.CloseEvent;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import net.logstash.logback.composite.AbstractJsonProvider;
import org.slf4j.Marker;
import org.slf4j.event.KeyValuePair;

/**
 * Writes a log line's own fields in the Elastic Common Schema (ECS {@value #ECS_VERSION}), for
 * logstash-logback-encoder's composite JSON encoder (config/logback-json.xml); the standard
 * fields ({@code @timestamp}, {@code log.level}, {@code message}, ...) come from its own
 * providers. Field names are dotted top-level keys, as Elastic's ecs-logging libraries write
 * them (Filebeat: {@code expand_keys}). Every line gets {@code ecs.version}, {@code service.name}
 * ({@link #setServiceName}, default {@code closewatch}), {@code event.kind}
 * ("event") and {@code event.dataset} ({@code closewatch.close} for the close logger,
 * {@code closewatch.log} otherwise).
 *
 * <p>A close line (one with a {@link CloseEventMarker}) is written from its {@link CloseEvent}:
 * {@code event.action}, {@code event.category}, {@code event.type}, {@code event.outcome}
 * ({@code success} for a normal end), {@code event.start}/{@code event.end} (ISO-8601 UTC),
 * {@code event.duration} (nanoseconds), {@code client.address}/{@code client.ip}/{@code
 * client.port}, and the WebSocket facts under the custom {@code closewatch.*} namespace:
 * {@code session route upstream code name category initiator clean cause answer_code reason
 * bytes_c2u bytes_u2c remedy}, with {@code code} and {@code answer_code} numbers as in
 * {@code /api/closes} (absent for a malformed 1-byte Close body, and {@code answer_code} when
 * nothing answered) and {@code reason} the peer's raw text, escaped once, by JSON.
 *
 * <p>Any other line's SLF4J key-value pairs map by key: {@code event} to {@code event.action},
 * {@code client} ({@code host:port}) to {@code client.*}, a numeric {@code status} to
 * {@code http.response.status_code}, {@code method} to {@code http.request.method}, {@code target}
 * to {@code url.original}, every other key {@code k} to {@code closewatch.k}, a JSON
 * number or boolean when the value is one, else a string. docs/logging.md has the table. A string
 * value the code escaped for the plain line ({@link LogText#escape}) is taken back to its text
 * ({@link LogText#unescape}) before JSON escapes it: escaped once, as in the plain line.
 */
public final class EcsJsonProvider extends AbstractJsonProvider<ILoggingEvent> {

    /** The ECS version the fields follow ({@code ecs.version}); .ci/ecs/ holds its definitions. */
    public static final String ECS_VERSION = "9.4.0";
    /** The custom namespace of closewatch's own fields (ECS reserves every other top-level name it uses). */
    public static final String NAMESPACE = "closewatch.";

    /** {@code event.category} and {@code event.type} by {@code event.action} (ECS allowed values). */
    private static final Map<String, List<List<String>>> CATEGORIZATION = Map.of(
            CloseLogger.EVENT_CLOSE, List.of(List.of("network", "session"), List.of("end")),
            "websocket.open", List.of(List.of("network", "session"), List.of("start")),
            "websocket.upgrade.refused", List.of(List.of("network"), List.of("denied")));

    private String serviceName = "closewatch";

    /** {@code service.name} on every line; {@code closewatch} unless set (Logback: {@code <serviceName>}). */
    public void setServiceName(String serviceName) {
        this.serviceName = serviceName;
    }

    @Override
    public void writeTo(JsonGenerator generator, ILoggingEvent line) throws IOException {
        generator.writeStringField("ecs.version", ECS_VERSION);
        generator.writeStringField("service.name", serviceName);
        generator.writeStringField("event.kind", "event");
        generator.writeStringField("event.dataset",
                CloseLogger.LOGGER.equals(line.getLoggerName()) ? "closewatch.close" : "closewatch.log");
        CloseEvent close = closeEvent(line);
        if (close != null) {
            writeClose(generator, close);
        } else if (line.getKeyValuePairs() != null) {
            writePairs(generator, line.getKeyValuePairs());
        }
    }

    private static CloseEvent closeEvent(ILoggingEvent line) {
        List<Marker> markers = line.getMarkerList();
        if (markers != null) {
            for (Marker m : markers) {
                if (m instanceof CloseEventMarker c) {
                    return c.event();
                }
            }
        }
        return null;
    }

    private static void writeClose(JsonGenerator g, CloseEvent e) throws IOException {
        CloseCode c = e.classification();
        writeAction(g, CloseLogger.EVENT_CLOSE);
        g.writeStringField("event.outcome", c.severity() == Severity.NORMAL ? "success" : "failure");
        g.writeStringField("event.start", e.openedAt().toString());
        g.writeStringField("event.end", e.openedAt().plus(e.duration()).toString());
        g.writeNumberField("event.duration", e.duration().toNanos());
        writeAddress(g, "client", e.client());
        g.writeStringField(NAMESPACE + "session", e.sessionId());
        g.writeStringField(NAMESPACE + "route", e.route());
        g.writeStringField(NAMESPACE + "upstream", e.upstream());
        if (e.code() >= 0) {
            g.writeNumberField(NAMESPACE + "code", e.code());
        }
        g.writeStringField(NAMESPACE + "name", c.name());
        g.writeStringField(NAMESPACE + "category", c.category().label());
        g.writeStringField(NAMESPACE + "initiator", e.initiator().label());
        g.writeBooleanField(NAMESPACE + "clean", e.clean());
        g.writeStringField(NAMESPACE + "cause", e.cause().label());
        if (e.answerCode() != null && e.answerCode() >= 0) {
            g.writeNumberField(NAMESPACE + "answer_code", e.answerCode());
        }
        g.writeStringField(NAMESPACE + "reason", e.reason());
        g.writeNumberField(NAMESPACE + "bytes_c2u", e.bytesClientToUpstream());
        g.writeNumberField(NAMESPACE + "bytes_u2c", e.bytesUpstreamToClient());
        g.writeStringField(NAMESPACE + "remedy", c.remedy());
    }

    private static void writePairs(JsonGenerator g, List<KeyValuePair> pairs) throws IOException {
        for (KeyValuePair p : pairs) {
            if (p.key == null || p.value == null) {
                continue;
            }
            switch (p.key) {
                case "event" -> writeAction(g, text(p.value));
                case "client" -> writeAddress(g, "client", text(p.value));
                case "status" -> {
                    if (p.value instanceof Number n) {
                        g.writeNumberField("http.response.status_code", n.longValue());
                    } else {
                        writeValue(g, NAMESPACE + "status", p.value);
                    }
                }
                case "method" -> g.writeStringField("http.request.method", text(p.value));
                case "target" -> g.writeStringField("url.original", text(p.value));
                default -> writeValue(g, NAMESPACE + p.key, p.value);
            }
        }
    }

    private static void writeAction(JsonGenerator g, String action) throws IOException {
        g.writeStringField("event.action", action);
        List<List<String>> cat = CATEGORIZATION.get(action);
        if (cat != null) {
            writeArray(g, "event.category", cat.get(0));
            writeArray(g, "event.type", cat.get(1));
        }
    }

    private static void writeArray(JsonGenerator g, String field, List<String> values) throws IOException {
        g.writeArrayFieldStart(field);
        for (String v : values) {
            g.writeString(v);
        }
        g.writeEndArray();
    }

    private static void writeValue(JsonGenerator g, String field, Object value) throws IOException {
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            g.writeNumberField(field, ((Number) value).longValue());
        } else if (value instanceof Number n) {
            g.writeNumberField(field, n.doubleValue());
        } else if (value instanceof Boolean b) {
            g.writeBooleanField(field, b);
        } else {
            g.writeStringField(field, text(value));
        }
    }

    /** A key-value pair's value as text, without the plain line's escaping: JSON escapes it. */
    private static String text(Object value) {
        return LogText.unescape(value.toString());
    }

    /**
     * {@code prefix.address} the host, {@code prefix.ip} the host when it is an IP literal, and
     * {@code prefix.port}, from {@code host:port} or {@code [v6]:port}; anything else whole in
     * {@code prefix.address}.
     */
    static void writeAddress(JsonGenerator g, String prefix, String hostPort) throws IOException {
        String host = hostPort;
        Integer port = null;
        int colon = hostPort.lastIndexOf(':');
        boolean bracketed = hostPort.startsWith("[") && colon > 0 && hostPort.charAt(colon - 1) == ']';
        if (colon > 0 && (bracketed || hostPort.indexOf(':') == colon)) {
            try {
                port = Integer.valueOf(hostPort.substring(colon + 1));
                host = bracketed ? hostPort.substring(1, colon - 1) : hostPort.substring(0, colon);
            } catch (NumberFormatException notAPort) {
                host = hostPort;
            }
        }
        g.writeStringField(prefix + ".address", host);
        if (isIpLiteral(host)) {
            g.writeStringField(prefix + ".ip", host);
        }
        if (port != null) {
            g.writeNumberField(prefix + ".port", port);
        }
    }

    private static boolean isIpLiteral(String host) {
        return io.netty.util.NetUtil.isValidIpV4Address(host) || io.netty.util.NetUtil.isValidIpV6Address(host);
    }
}
