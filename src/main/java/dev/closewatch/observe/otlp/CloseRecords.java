package dev.closewatch.observe.otlp;

import dev.closewatch.catalog.Severity;
import dev.closewatch.observe.CloseLogger;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.SessionFacts;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.logs.LogRecordBuilder;
import io.opentelemetry.api.logs.Logger;
import java.time.Duration;
import java.util.List;

/**
 * One session end as an OpenTelemetry log record (the log data model's fields, attributes named
 * by the semantic conventions where they have a name, under {@code websocket.close.*} for the
 * close handshake's facts and {@code closewatch.*} for closewatch's own): the mapping documented in
 * {@code docs/opentelemetry.md}.
 */
final class CloseRecords {

    /** The record's event name ({@code EventName} in the log data model): the close line's {@code event}. */
    static final String EVENT_NAME = CloseLogger.EVENT_CLOSE;

    // OpenTelemetry semantic conventions (stable: client, url, user_agent, error, http).
    static final AttributeKey<String> CLIENT_ADDRESS = AttributeKey.stringKey("client.address");
    static final AttributeKey<Long> CLIENT_PORT = AttributeKey.longKey("client.port");
    static final AttributeKey<String> URL_PATH = AttributeKey.stringKey("url.path");
    static final AttributeKey<String> USER_AGENT = AttributeKey.stringKey("user_agent.original");
    static final AttributeKey<List<String>> ORIGIN = AttributeKey.stringArrayKey("http.request.header.origin");
    static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
    // The close handshake (RFC 6455 §7.1.5, §7.1.6, §7.4).
    static final AttributeKey<Long> CODE = AttributeKey.longKey("websocket.close.code");
    static final AttributeKey<String> REASON = AttributeKey.stringKey("websocket.close.reason");
    static final AttributeKey<Boolean> CLEAN = AttributeKey.booleanKey("websocket.close.clean");
    static final AttributeKey<String> INITIATOR = AttributeKey.stringKey("websocket.close.initiator");
    static final AttributeKey<Long> ANSWER_CODE = AttributeKey.longKey("websocket.close.answer_code");
    // closewatch's own.
    static final AttributeKey<String> SESSION_ID = AttributeKey.stringKey("closewatch.session.id");
    static final AttributeKey<String> ROUTE = AttributeKey.stringKey("closewatch.route");
    static final AttributeKey<String> UPSTREAM = AttributeKey.stringKey("closewatch.upstream.address");
    static final AttributeKey<String> NAME = AttributeKey.stringKey("closewatch.close.name");
    static final AttributeKey<String> CATEGORY = AttributeKey.stringKey("closewatch.close.category");
    static final AttributeKey<String> SEVERITY = AttributeKey.stringKey("closewatch.close.severity");
    static final AttributeKey<String> CAUSE = AttributeKey.stringKey("closewatch.close.cause");
    static final AttributeKey<String> REMEDY = AttributeKey.stringKey("closewatch.close.remedy");
    static final AttributeKey<Double> DURATION = AttributeKey.doubleKey("closewatch.session.duration");
    static final AttributeKey<Double> HANDSHAKE_DURATION = AttributeKey.doubleKey("closewatch.close_handshake.duration");
    static final AttributeKey<Double> CLIENT_IDLE = AttributeKey.doubleKey("closewatch.client.idle");
    static final AttributeKey<Double> UPSTREAM_IDLE = AttributeKey.doubleKey("closewatch.upstream.idle");
    static final AttributeKey<Long> BYTES_C2U = AttributeKey.longKey("closewatch.bytes.client_to_upstream");
    static final AttributeKey<Long> BYTES_U2C = AttributeKey.longKey("closewatch.bytes.upstream_to_client");

    private CloseRecords() {
    }

    /**
     * Emits {@code event} on {@code logger}: timestamp = the session's end, severity = the close
     * line's level for the code's catalog severity ({@code level}), body = the close line's message.
     */
    static void emit(Logger logger, SessionFacts facts, CloseEvent event, org.slf4j.event.Level level) {
        LogRecordBuilder record = logger.logRecordBuilder()
                .setEventName(EVENT_NAME)
                .setTimestamp(event.openedAt().plus(event.duration()))
                .setSeverity(severity(level))
                .setSeverityText(level.name())
                .setBody("WebSocket session " + event.sessionId() + " ended: " + event.codeText() + " "
                        + event.classification().name());
        address(record, event.client());
        if (facts.path() != null) {
            record.setAttribute(URL_PATH, facts.path());
        }
        if (facts.userAgent() != null) {
            record.setAttribute(USER_AGENT, facts.userAgent());
        }
        if (facts.origin() != null) {
            record.setAttribute(ORIGIN, List.of(facts.origin()));
        }
        if (event.classification().severity() != Severity.NORMAL) {
            // A bounded class of error, as error.type asks: the catalog category (abnormal, policy_violation...).
            record.setAttribute(ERROR_TYPE, event.classification().category().label());
        }
        if (event.code() >= 0) {
            record.setAttribute(CODE, (long) event.code());
        }
        if (!event.reason().isEmpty()) {
            record.setAttribute(REASON, event.reason());
        }
        record.setAttribute(CLEAN, event.clean());
        record.setAttribute(INITIATOR, event.initiator().label());
        if (event.answerCode() != null && event.answerCode() >= 0) {
            record.setAttribute(ANSWER_CODE, (long) event.answerCode());
        }
        record.setAttribute(SESSION_ID, event.sessionId());
        record.setAttribute(ROUTE, event.route());
        record.setAttribute(UPSTREAM, event.upstream());
        record.setAttribute(NAME, event.classification().name());
        record.setAttribute(CATEGORY, event.classification().category().label());
        record.setAttribute(SEVERITY, event.classification().severity().label());
        record.setAttribute(CAUSE, event.cause().label());
        record.setAttribute(REMEDY, event.classification().remedy());
        record.setAttribute(DURATION, seconds(event.duration()));
        if (event.closeHandshakeDuration() != null) {
            record.setAttribute(HANDSHAKE_DURATION, seconds(event.closeHandshakeDuration()));
        }
        record.setAttribute(CLIENT_IDLE, seconds(event.clientIdle()));
        record.setAttribute(UPSTREAM_IDLE, seconds(event.upstreamIdle()));
        record.setAttribute(BYTES_C2U, event.bytesClientToUpstream());
        record.setAttribute(BYTES_U2C, event.bytesUpstreamToClient());
        record.emit();
    }

    /** Seconds, the unit the semantic conventions give durations. */
    static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }

    static io.opentelemetry.api.logs.Severity severity(org.slf4j.event.Level level) {
        return switch (level) {
            case TRACE -> io.opentelemetry.api.logs.Severity.TRACE;
            case DEBUG -> io.opentelemetry.api.logs.Severity.DEBUG;
            case INFO -> io.opentelemetry.api.logs.Severity.INFO;
            case WARN -> io.opentelemetry.api.logs.Severity.WARN;
            case ERROR -> io.opentelemetry.api.logs.Severity.ERROR;
        };
    }

    /**
     * {@code client.address} and {@code client.port} from the close event's {@code client}:
     * {@code 203.0.113.7:51234}, {@code [2001:db8::1]:443}, or an address without port (the client
     * named by a trusted proxy's {@code X-Forwarded-For}).
     */
    static void address(LogRecordBuilder record, String client) {
        Address a = Address.parse(client);
        if (a != null) {
            record.setAttribute(CLIENT_ADDRESS, a.host());
            if (a.port() != null) {
                record.setAttribute(CLIENT_PORT, a.port());
            }
        }
    }

    /** A {@code client} field split: the host without brackets, and the port if it had one. */
    record Address(String host, Long port) {

        /** {@code null} for a null or empty field. */
        static Address parse(String client) {
            if (client == null || client.isEmpty()) {
                return null;
            }
            String host = client;
            String port = null;
            if (client.startsWith("[")) {
                int end = client.indexOf(']');
                if (end > 0) {
                    host = client.substring(1, end);
                    port = client.startsWith(":", end + 1) ? client.substring(end + 2) : null;
                }
            } else if (client.indexOf(':') > 0 && client.indexOf(':') == client.lastIndexOf(':')) {
                host = client.substring(0, client.indexOf(':'));
                port = client.substring(client.indexOf(':') + 1);
            }
            return new Address(host, port != null && port.matches("[0-9]{1,5}") ? Long.valueOf(port) : null);
        }
    }
}
