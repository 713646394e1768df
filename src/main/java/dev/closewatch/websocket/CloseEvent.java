package dev.closewatch.websocket;

import dev.closewatch.catalog.CloseCode;
import java.time.Duration;
import java.time.Instant;

/**
 * How one WebSocket session ended; emitted exactly once per session when both TCP connections
 * are gone ("_The WebSocket Connection is Closed_", RFC 6455 §7.1.4).
 *
 * @param sessionId              the proxy's id for the session (the client channel's id)
 * @param route                  configured route name (a bounded label value)
 * @param client                 client address as {@code host:port}
 * @param upstream               upstream address as {@code host:port}
 * @param code                   status code: from the first Close frame; 1005 for an empty one;
 *                               1006 when no Close frame was seen; 1015 for a failed TLS
 *                               handshake; {@link dev.closewatch.catalog.CloseCatalog#MALFORMED}
 *                               for a 1-byte Close body
 * @param classification         the catalog entry for {@code code}
 * @param reason                 close reason from the first Close frame (raw, unescaped), or ""
 * @param initiator              who sent the first Close frame, or whose TCP went first
 * @param clean                  true only if both Close frames were exchanged (§7.1.2)
 * @param closeFrameSeen         whether any Close frame passed; with {@code !clean}, the close
 *                               handshake was incomplete
 * @param cause                  how the connections ended
 * @param openedAt               wall-clock time of the 101 response
 * @param duration               from the 101 response to the end
 * @param closeHandshakeDuration from the first Close frame to the answering one, or null if the
 *                               handshake did not complete
 * @param bytesClientToUpstream  bytes delivered to the upstream after the 101: relayed from the
 *                               client, plus the proxy's own Close frame if it sent one; bytes
 *                               read and dropped are not counted
 * @param bytesUpstreamToClient  bytes delivered to the client after the 101: relayed from the
 *                               upstream, plus the proxy's own Ping and Close frames
 * @param answerCode             the status code of the Close frame that answered the first one
 *                               (for a proxy's Close, the first endpoint's answer), so an
 *                               endpoint's 1002 answer to an invalid Close is visible;
 *                               {@link dev.closewatch.catalog.CloseCatalog#MALFORMED} for a
 *                               1-byte body; null when nothing answered
 * @param clientIdle             from the last bytes read from the client (or the 101, if none)
 *                               to the end; never null
 * @param upstreamIdle           from the last bytes read from the upstream (or the 101, if none)
 *                               to the end; never null
 */
public record CloseEvent(
        String sessionId,
        String route,
        String client,
        String upstream,
        int code,
        CloseCode classification,
        String reason,
        Initiator initiator,
        boolean clean,
        boolean closeFrameSeen,
        Cause cause,
        Instant openedAt,
        Duration duration,
        Duration closeHandshakeDuration,
        long bytesClientToUpstream,
        long bytesUpstreamToClient,
        Integer answerCode,
        Duration clientIdle,
        Duration upstreamIdle) {

    /** An event whose idle times are the whole {@code duration} (nothing read since the 101). */
    public CloseEvent(String sessionId, String route, String client, String upstream, int code,
                      CloseCode classification, String reason, Initiator initiator, boolean clean,
                      boolean closeFrameSeen, Cause cause, Instant openedAt, Duration duration,
                      Duration closeHandshakeDuration, long bytesClientToUpstream, long bytesUpstreamToClient,
                      Integer answerCode) {
        this(sessionId, route, client, upstream, code, classification, reason, initiator, clean, closeFrameSeen,
                cause, openedAt, duration, closeHandshakeDuration, bytesClientToUpstream, bytesUpstreamToClient,
                answerCode, duration, duration);
    }

    /** An event with no answering Close frame ({@code answerCode} null). */
    public CloseEvent(String sessionId, String route, String client, String upstream, int code,
                      CloseCode classification, String reason, Initiator initiator, boolean clean,
                      boolean closeFrameSeen, Cause cause, Instant openedAt, Duration duration,
                      Duration closeHandshakeDuration, long bytesClientToUpstream, long bytesUpstreamToClient) {
        this(sessionId, route, client, upstream, code, classification, reason, initiator, clean, closeFrameSeen,
                cause, openedAt, duration, closeHandshakeDuration, bytesClientToUpstream, bytesUpstreamToClient, null);
    }

    /** From the last bytes read from either side (or the 101) to the end: the shorter idle time. */
    public Duration idle() {
        return clientIdle.compareTo(upstreamIdle) <= 0 ? clientIdle : upstreamIdle;
    }

    /** The status code as text: the number, or {@code invalid} for a malformed Close body. */
    public String codeText() {
        return code < 0 ? "invalid" : Integer.toString(code);
    }

    /** The answering Close's code as text: the number, {@code invalid} for a 1-byte body, "" for no answer. */
    public String answerCodeText() {
        return answerCode == null ? "" : answerCode < 0 ? "invalid" : Integer.toString(answerCode);
    }
}
