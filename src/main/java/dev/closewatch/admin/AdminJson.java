package dev.closewatch.admin;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import dev.closewatch.catalog.CloseCode;
import dev.closewatch.config.DiagnosisConfig;
import dev.closewatch.diagnose.Intermediary;
import dev.closewatch.diagnose.Signature;
import dev.closewatch.diagnose.SignatureDetector;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Direction;
import dev.closewatch.websocket.WebSocketSession;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The admin API's JSON shapes, written by Jackson with snake_case names in declaration order.
 * Records here are the wire contract of {@code /api/*}: rename a component only together with
 * its readers.
 */
final class AdminJson {

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

    private AdminJson() {
    }

    /** {@code value} as one line of JSON (Jackson escapes every control character). */
    static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * One session end, as in {@code /api/closes} and the {@code data:} of {@code /api/closes/stream}.
     * {@code code} is null for a malformed (1-byte) Close body, whose {@code name} says so;
     * {@code reason} is the peer's raw text; {@code time} is when the session ended (ISO-8601 UTC).
     * {@code answer_code} is the answering Close frame's code, null when none answered (or its body was 1 byte).
     * {@code client_idle_ms}, {@code upstream_idle_ms} and {@code idle_ms}: from the last bytes read from the
     * client, from the upstream, and from either (or from the 101, if none) to the end.
     */
    record CloseView(String session, String route, String client, String upstream, Integer code, String name,
                     String category, String initiator, boolean clean, String cause, Integer answerCode, String reason,
                     long durationMs, long clientIdleMs, long upstreamIdleMs, long idleMs, long bytesC2u,
                     long bytesU2c, String remedy, String time) {

        static CloseView of(CloseEvent e) {
            CloseCode c = e.classification();
            return new CloseView(e.sessionId(), e.route(), e.client(), e.upstream(), e.code() < 0 ? null : e.code(),
                    c.name(), c.category().label(), e.initiator().label(), e.clean(), e.cause().label(),
                    e.answerCode() == null || e.answerCode() < 0 ? null : e.answerCode(), e.reason(),
                    e.duration().toMillis(), e.clientIdle().toMillis(), e.upstreamIdle().toMillis(),
                    e.idle().toMillis(), e.bytesClientToUpstream(), e.bytesUpstreamToClient(), c.remedy(),
                    e.openedAt().plus(e.duration()).toString());
        }
    }

    /** {@code GET /api/closes}: newest first. */
    record Closes(List<CloseView> closes) {
    }

    /**
     * One open session; {@code age_seconds} with millisecond precision, byte counts relayed since
     * the 101 (possibly a few reads behind, see {@link dev.closewatch.observe.OpenSessions}).
     */
    record SessionView(String id, String route, String client, String upstream, String openedAt, double ageSeconds,
                       long bytesC2u, long bytesU2c) {

        static SessionView of(WebSocketSession s, Instant now) {
            return new SessionView(s.id(), s.route(), s.client(), s.upstream(), s.openedAt().toString(),
                    Math.max(0, Duration.between(s.openedAt(), now).toMillis()) / 1000.0,
                    s.observer(Direction.CLIENT_TO_UPSTREAM).totalBytes(),
                    s.observer(Direction.UPSTREAM_TO_CLIENT).totalBytes());
        }
    }

    /** {@code GET /api/sessions}: {@code count} open in all, the oldest {@code sessions.size()} of them. */
    record Sessions(int count, List<SessionView> sessions) {
    }

    /**
     * One catalog entry: single codes have {@code code}, range rules {@code range} ({@code 4000-4999})
     * with {@code from} and {@code to}; {@code label} is the metric's {@code code} label value.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record CodeView(Integer code, String range, Integer from, Integer to, String label, String name, String category,
                    String severity, boolean onWire, String reference, String description, String when,
                    String remedy) {

        static CodeView of(CloseCode c) {
            boolean single = c.isSingleCode();
            return new CodeView(single ? c.from() : null, single ? null : c.rangeText(), single ? null : c.from(),
                    single ? null : c.to(), c.label(), c.name(), c.category().label(), c.severity().label(), c.onWire(),
                    c.reference(), c.description(), c.when(), c.remedy());
        }
    }

    /** {@code GET /api/codes}: the single-code entries, then the range rules. */
    record Codes(List<CodeView> entries, List<CodeView> ranges) {
    }

    /**
     * {@code GET /api/diagnosis}: the settings the detector uses and the timeout signatures
     * reported now, by route, leg and kind.
     */
    record Diagnosis(long windowSeconds, int minCount, double minShare, long toleranceMs, double toleranceRatio,
                     List<SignatureView> signatures) {

        static Diagnosis of(SignatureDetector detector) {
            DiagnosisConfig c = detector.config();
            return new Diagnosis(c.window().toSeconds(), c.minCount(), c.minShare(), c.tolerance().toMillis(),
                    c.toleranceRatio(), detector.signatures().stream().map(SignatureView::of).toList());
        }
    }

    /**
     * One signature: {@code seconds} is the value with millisecond precision, {@code bucket} the
     * metric's {@code seconds} label; {@code count} of {@code total} abnormal ends of the route and
     * leg in the window match it; times are ISO-8601 UTC.
     */
    record SignatureView(String route, String leg, String kind, double seconds, String bucket, int count, int total,
                         String since, String detectedAt, String text, String remedy, List<CulpritView> culprits) {

        static SignatureView of(Signature s) {
            return new SignatureView(s.route(), s.leg().label(), s.kind().label(), s.valueMillis() / 1000.0,
                    s.seconds(), s.count(), s.total(), s.since().toString(), s.detectedAt().toString(), s.text(),
                    s.remedy(), s.culprits().stream().map(CulpritView::of).toList());
        }
    }

    /** A well-known intermediary whose default matches a signature. */
    record CulpritView(String product, String setting, double defaultSeconds, String kind, String source) {

        static CulpritView of(Intermediary i) {
            return new CulpritView(i.product(), i.setting(), i.defaultValue().toMillis() / 1000.0, i.kind().label(),
                    i.source());
        }
    }

    /** The {@code data:} of a stream's {@code event: dropped}: events this subscriber missed. */
    record Dropped(long dropped, long droppedTotal) {
    }
}
