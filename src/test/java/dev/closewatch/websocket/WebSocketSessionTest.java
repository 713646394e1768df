package dev.closewatch.websocket;

import static dev.closewatch.websocket.FrameObserverTest.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.catalog.Category;
import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.websocket.FrameObserverTest.Frames;
import dev.closewatch.websocket.WebSocketSession.State;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link WebSocketSession}: the close handshake (RFC 6455 §7.1.2), the status codes it reports
 * when there was none (§7.1.5: 1005, 1006, 1015), and one {@link CloseEvent} per session. Driven
 * through the session's own frame observers with real frame bytes, and through
 * {@link WebSocketSession#onCloseFrame} where that reads more simply. Time comes from a fake
 * nanosecond clock the tests set.
 */
class WebSocketSessionTest {

    private static final Direction C2U = Direction.CLIENT_TO_UPSTREAM;
    private static final Direction U2C = Direction.UPSTREAM_TO_CLIENT;
    private static final int TEXT = 0x1;
    private static final int CLOSE = 0x8;
    private static final int PING = 0x9;
    private static final int PONG = 0xA;
    private static final long OPENED_AT = 1_000L;

    private static final CloseCatalog CATALOG = CloseCatalog.loadDefault();

    private final AtomicLong nanos = new AtomicLong(OPENED_AT);
    private RecordingListener listener;
    private WebSocketSession session;

    @BeforeEach
    void openSession() {
        listener = new RecordingListener();
        session = new WebSocketSession("s-1", "chat", "198.51.100.7:53211", "10.0.0.5:8080", CATALOG, listener,
                nanos::get);
    }

    @Test
    void shouldAnnounceTheOpenSessionOnce() {
        // Given a session just built (in @BeforeEach)
        // When nothing else happens
        // Then the listener saw it open, once, and it is OPEN with no event
        assertEquals(List.of(session), listener.opened);
        assertEquals(State.OPEN, session.state());
        assertFalse(session.ended());
        assertEquals(List.of(), listener.closed);
        assertEquals("s-1", session.id());
        assertEquals("chat", session.route());
        assertEquals("198.51.100.7:53211", session.client());
        assertEquals("10.0.0.5:8080", session.upstream());
        assertSame(session.observer(C2U), session.observer(C2U));
        assertEquals(C2U, session.observer(C2U).direction());
        assertEquals(U2C, session.observer(U2C).direction());
    }

    @Test
    void shouldReportTheIdleTimeOfEachSideAtTheEnd() {
        // Given bytes from the client at t=1 s and from the upstream at t=4 s after the 101
        nanos.set(OPENED_AT + 1_000_000_000L);
        session.bytesRead(Initiator.CLIENT, nanos.get());
        nanos.set(OPENED_AT + 4_000_000_000L);
        session.bytesRead(Initiator.UPSTREAM, nanos.get());

        // When the client's TCP drops at t=10 s, the upstream's just after
        nanos.set(OPENED_AT + 10_000_000_000L);
        session.transportClosed(Initiator.CLIENT);
        session.transportClosed(Initiator.UPSTREAM);

        // Then idle counts from each side's last read; either way is the shorter one
        CloseEvent e = listener.closed.get(0);
        assertEquals(Duration.ofSeconds(9), e.clientIdle());
        assertEquals(Duration.ofSeconds(6), e.upstreamIdle());
        assertEquals(Duration.ofSeconds(6), e.idle());
        assertEquals(Duration.ofSeconds(10), e.duration());
    }

    @Test
    void shouldCountIdleFromThe101WhenNothingWasRead() {
        // Given nothing read at all
        // When both connections drop at t=3 s
        nanos.set(OPENED_AT + 3_000_000_000L);
        session.transportClosed(Initiator.UPSTREAM);
        session.transportClosed(Initiator.CLIENT);

        // Then the whole life was idle on both sides
        CloseEvent e = listener.closed.get(0);
        assertEquals(Duration.ofSeconds(3), e.clientIdle());
        assertEquals(Duration.ofSeconds(3), e.upstreamIdle());
        assertEquals(Duration.ofSeconds(3), e.idle());
    }

    @Test
    void shouldReportCleanCloseStartedByClient() {
        // Given the client sends Close 1000 "bye" at t=2 s
        byte[] clientClose = Frames.masked().close(1000, "bye").build().bytes();
        byte[] upstreamClose = Frames.unmasked().close(1000, "bye").build().bytes();
        nanos.set(2_000_000_000L);
        observe(C2U, clientClose);
        assertEquals(State.CLOSING, session.state());

        // When the upstream answers 3 ms later and both TCP connections close (server first,
        // §7.1.1), the last at t=2.01 s
        nanos.set(2_003_000_000L);
        observe(U2C, upstreamClose);
        assertEquals(State.CLOSED, session.state());
        nanos.set(2_005_000_000L);
        session.transportClosed(Initiator.UPSTREAM);
        assertEquals(List.of(), listener.closed);
        nanos.set(2_010_000_000L);
        session.transportClosed(Initiator.CLIENT);

        // Then one clean event: code 1000, initiator client, cause close_handshake, exact times
        CloseEvent event = onlyEvent();
        assertEquals("s-1", event.sessionId());
        assertEquals("chat", event.route());
        assertEquals("198.51.100.7:53211", event.client());
        assertEquals("10.0.0.5:8080", event.upstream());
        assertEquals(1000, event.code());
        assertEquals("1000", event.codeText());
        assertSame(CATALOG.lookup(1000), event.classification());
        assertEquals("bye", event.reason());
        assertEquals(Initiator.CLIENT, event.initiator());
        assertTrue(event.clean());
        assertTrue(event.closeFrameSeen());
        assertEquals(Cause.CLOSE_HANDSHAKE, event.cause());
        assertEquals(session.openedAt(), event.openedAt());
        assertEquals(Duration.ofNanos(2_010_000_000L - OPENED_AT), event.duration());
        assertEquals(Duration.ofMillis(3), event.closeHandshakeDuration());
        assertEquals(clientClose.length, event.bytesClientToUpstream());
        assertEquals(upstreamClose.length, event.bytesUpstreamToClient());
        assertTrue(session.ended());
    }

    @Test
    void shouldReportCleanCloseStartedByUpstream() {
        // Given the upstream sends Close 1001 "restarting" at t=5 s
        nanos.set(5_000_000_000L);
        observe(U2C, Frames.unmasked().close(1001, "restarting").build().bytes());

        // When the client echoes the status code 250 µs later (§5.5.1) and both TCP
        // connections close
        nanos.set(5_000_250_000L);
        observe(C2U, Frames.masked().close(1001, "").build().bytes());
        nanos.set(6_000_000_000L);
        session.transportClosed(Initiator.UPSTREAM);
        session.transportClosed(Initiator.CLIENT);

        // Then the upstream initiated a clean close with its code and reason
        CloseEvent event = onlyEvent();
        assertEquals(1001, event.code());
        assertEquals(Category.GOING_AWAY, event.classification().category());
        assertEquals("restarting", event.reason());
        assertEquals(Initiator.UPSTREAM, event.initiator());
        assertTrue(event.clean());
        assertTrue(event.closeFrameSeen());
        assertEquals(Cause.CLOSE_HANDSHAKE, event.cause());
        assertEquals(Duration.ofNanos(250_000L), event.closeHandshakeDuration());
        assertEquals(Duration.ofNanos(6_000_000_000L - OPENED_AT), event.duration());
    }

    @Test
    void shouldReportEmptyCloseAs1005() {
        // Given the client sends a Close frame with no body and the upstream answers likewise
        observe(C2U, Frames.masked().frame(true, CLOSE, new byte[0]).build().bytes());
        observe(U2C, Frames.unmasked().frame(true, CLOSE, new byte[0]).build().bytes());

        // When both TCP connections close
        session.transportClosed(Initiator.UPSTREAM);
        session.transportClosed(Initiator.CLIENT);

        // Then the code is 1005 No Status Received, category no_status, a clean close
        CloseEvent event = onlyEvent();
        assertEquals(CloseCatalog.NO_STATUS_RECEIVED, event.code());
        assertEquals("1005", event.codeText());
        assertEquals(Category.NO_STATUS, event.classification().category());
        assertEquals("", event.reason());
        assertEquals(Initiator.CLIENT, event.initiator());
        assertTrue(event.clean());
        assertEquals(Cause.CLOSE_HANDSHAKE, event.cause());
        assertEquals(List.of(), listener.violations);
    }

    @Test
    void shouldKeepTheSentCodeOfAnUnansweredClose() {
        // Given the client sends Close 1008 "policy" and the upstream never answers
        nanos.set(10_000L);
        observe(C2U, Frames.masked().close(1008, "policy").build().bytes());

        // When the upstream's TCP connection and then the client's close
        nanos.set(20_000L);
        session.transportClosed(Initiator.UPSTREAM);
        session.transportClosed(Initiator.CLIENT);

        // Then the event keeps 1008, is not clean, saw a Close frame, has no handshake time,
        // and the cause is how the first TCP connection went
        CloseEvent event = onlyEvent();
        assertEquals(State.CLOSING, session.state());
        assertEquals(1008, event.code());
        assertEquals(Category.POLICY_VIOLATION, event.classification().category());
        assertEquals("policy", event.reason());
        assertEquals(Initiator.CLIENT, event.initiator());
        assertFalse(event.clean());
        assertTrue(event.closeFrameSeen());
        assertEquals(Cause.FIN, event.cause());
        assertNull(event.closeHandshakeDuration());
        assertEquals(Duration.ofNanos(20_000L - OPENED_AT), event.duration());
    }

    @Test
    void shouldTakeTheCauseOfAnUnansweredCloseFromTheFirstTransportToGo() {
        // Given the upstream sends Close 1011 and then its connection is reset
        observe(U2C, Frames.unmasked().close(1011, "boom").build().bytes());
        session.transportFailed(Initiator.UPSTREAM, Cause.RESET);

        // When the upstream's and then the client's TCP connections close
        session.transportClosed(Initiator.UPSTREAM);
        session.transportClosed(Initiator.CLIENT);

        // Then the unanswered 1011 is reported with cause reset
        CloseEvent event = onlyEvent();
        assertEquals(1011, event.code());
        assertEquals(Initiator.UPSTREAM, event.initiator());
        assertFalse(event.clean());
        assertTrue(event.closeFrameSeen());
        assertEquals(Cause.RESET, event.cause());
    }

    @Test
    void shouldReport1006NamingTheClientWhenItsTcpWentFirst() {
        // Given frames but no Close frame either way
        observe(C2U, Frames.masked().frame(true, TEXT, utf8("hello")).build().bytes());
        observe(U2C, Frames.unmasked().frame(true, TEXT, utf8("world")).build().bytes());

        // When the client's TCP connection goes first (FIN), then the upstream's
        nanos.set(42_000_000L);
        session.transportClosed(Initiator.CLIENT);
        session.transportClosed(Initiator.UPSTREAM);

        // Then 1006 Abnormal Closure, initiator client, cause fin
        CloseEvent event = onlyEvent();
        assertEquals(State.OPEN, session.state());
        assertEquals(CloseCatalog.ABNORMAL_CLOSURE, event.code());
        assertSame(CATALOG.lookup(1006), event.classification());
        assertEquals(Category.ABNORMAL, event.classification().category());
        assertEquals("1006", event.classification().label());
        assertEquals(Initiator.CLIENT, event.initiator());
        assertEquals(Cause.FIN, event.cause());
        assertFalse(event.clean());
        assertFalse(event.closeFrameSeen());
        assertEquals("", event.reason());
        assertNull(event.closeHandshakeDuration());
        assertEquals(Duration.ofNanos(42_000_000L - OPENED_AT), event.duration());
    }

    @Test
    void shouldReport1006NamingTheUpstreamWhenItsTcpWentFirst() {
        // Given no Close frame
        // When the upstream's TCP connection goes first, then the client's
        session.transportClosed(Initiator.UPSTREAM);
        session.transportClosed(Initiator.CLIENT);

        // Then 1006, initiator upstream, cause fin
        CloseEvent event = onlyEvent();
        assertEquals(1006, event.code());
        assertEquals(Initiator.UPSTREAM, event.initiator());
        assertEquals(Cause.FIN, event.cause());
    }

    @Test
    void shouldReport1006WithCauseResetWhenTheFirstTransportFailed() {
        // Given the client's connection fails with a reset (noted twice with different causes)
        session.transportFailed(Initiator.CLIENT, Cause.RESET);
        session.transportFailed(Initiator.CLIENT, Cause.IDLE_TIMEOUT);

        // When it closes, then the upstream's
        session.transportClosed(Initiator.CLIENT);
        session.transportClosed(Initiator.UPSTREAM);

        // Then 1006 with the first cause noted: reset
        CloseEvent event = onlyEvent();
        assertEquals(1006, event.code());
        assertEquals(Initiator.CLIENT, event.initiator());
        assertEquals(Cause.RESET, event.cause());
    }

    @Test
    void shouldIgnoreTheCauseOfTheSideThatClosedSecond() {
        // Given the upstream's connection will fail with a reset, but the client's goes first
        session.transportFailed(Initiator.UPSTREAM, Cause.RESET);

        // When the client's closes, then the upstream's
        session.transportClosed(Initiator.CLIENT);
        session.transportClosed(Initiator.UPSTREAM);

        // Then the client dropped first, with a FIN
        CloseEvent event = onlyEvent();
        assertEquals(Initiator.CLIENT, event.initiator());
        assertEquals(Cause.FIN, event.cause());
    }

    @ParameterizedTest
    @EnumSource(value = Initiator.class, names = {"CLIENT", "UPSTREAM"})
    void shouldReport1015WhenTheTlsHandshakeFailed(Initiator side) {
        // Given a TLS handshake failure on one leg
        session.transportFailed(side, Cause.TLS_HANDSHAKE);

        // When that leg closes first, then the other
        session.transportClosed(side);
        session.transportClosed(side == Initiator.CLIENT ? Initiator.UPSTREAM : Initiator.CLIENT);

        // Then 1015 TLS Handshake, cause tls_handshake
        CloseEvent event = onlyEvent();
        assertEquals(CloseCatalog.TLS_HANDSHAKE, event.code());
        assertSame(CATALOG.lookup(1015), event.classification());
        assertEquals(Category.TLS_HANDSHAKE, event.classification().category());
        assertEquals(side, event.initiator());
        assertEquals(Cause.TLS_HANDSHAKE, event.cause());
        assertFalse(event.clean());
        assertFalse(event.closeFrameSeen());
    }

    @Test
    void shouldEmitExactlyOneEventWhateverTransportCallsFollow() {
        // Given a session whose both TCP connections closed
        session.transportClosed(Initiator.CLIENT);
        session.transportClosed(Initiator.UPSTREAM);

        // When the transports are reported closed again, and a late Close frame passes
        session.transportClosed(Initiator.CLIENT);
        session.transportClosed(Initiator.UPSTREAM);
        session.transportClosed(Initiator.CLIENT);
        observe(U2C, Frames.unmasked().close(1000, "").build().bytes());
        session.transportClosed(Initiator.UPSTREAM);

        // Then there is still exactly one event
        assertEquals(1, listener.closed.size());
        assertEquals(1006, listener.closed.get(0).code());
        assertTrue(session.ended());
    }

    @Test
    void shouldNotEndWhileOnlyOneTransportClosed() {
        // Given a clean close handshake
        observe(C2U, Frames.masked().close(1000, "").build().bytes());
        observe(U2C, Frames.unmasked().close(1000, "").build().bytes());

        // When only the upstream's TCP connection closes, even twice
        session.transportClosed(Initiator.UPSTREAM);
        session.transportClosed(Initiator.UPSTREAM);

        // Then no event yet
        assertEquals(List.of(), listener.closed);
        assertFalse(session.ended());
    }

    @Test
    void shouldNotCompleteTheHandshakeOnASecondCloseFromTheSameSide() {
        // Given the client sends Close 1000 at t=1 ms, then (wrongly) a second Close 1001
        nanos.set(1_000_000L);
        observe(C2U, Frames.masked().close(1000, "first").build().bytes());
        nanos.set(2_000_000L);
        observe(C2U, Frames.masked().close(1001, "second").build().bytes());

        // Then the session is still waiting for the upstream's Close
        assertEquals(State.CLOSING, session.state());

        // When the upstream answers at t=9 ms and both transports close
        nanos.set(9_000_000L);
        observe(U2C, Frames.unmasked().close(1000, "").build().bytes());
        session.transportClosed(Initiator.UPSTREAM);
        session.transportClosed(Initiator.CLIENT);

        // Then the handshake is measured from the first Close and keeps its code and reason
        CloseEvent event = onlyEvent();
        assertTrue(event.clean());
        assertEquals(1000, event.code());
        assertEquals("first", event.reason());
        assertEquals(Duration.ofMillis(8), event.closeHandshakeDuration());
    }

    @Test
    void shouldReportUnansweredWhenOnlyTheSameSideSentClose() {
        // Given the upstream sends two Close frames and the client none
        session.onCloseFrame(U2C, 4001, CATALOG.classifyWire(4001), "kicked");
        session.onCloseFrame(U2C, 4001, CATALOG.classifyWire(4001), "kicked");

        // When both transports close
        session.transportClosed(Initiator.CLIENT);
        session.transportClosed(Initiator.UPSTREAM);

        // Then the handshake never completed
        CloseEvent event = onlyEvent();
        assertFalse(event.clean());
        assertTrue(event.closeFrameSeen());
        assertEquals(4001, event.code());
        assertEquals("4xxx", event.classification().label());
        assertEquals(Initiator.UPSTREAM, event.initiator());
        assertEquals(Cause.FIN, event.cause());
        assertNull(event.closeHandshakeDuration());
    }

    @Test
    void shouldRecordTheFirstCloseFramesCodeWhenTheAnswerDiffers() {
        // Given the upstream closes with 1011 and the client answers 1000 (onCloseFrame direct)
        nanos.set(100L);
        session.onCloseFrame(U2C, 1011, CATALOG.classifyWire(1011), "db down");
        nanos.set(600L);
        session.onCloseFrame(C2U, 1000, CATALOG.classifyWire(1000), "");

        // When both transports close
        session.transportClosed(Initiator.UPSTREAM);
        session.transportClosed(Initiator.CLIENT);

        // Then the event carries the initiator's code and reason
        CloseEvent event = onlyEvent();
        assertEquals(1011, event.code());
        assertEquals(Category.INTERNAL_ERROR, event.classification().category());
        assertEquals("db down", event.reason());
        assertEquals(Initiator.UPSTREAM, event.initiator());
        assertTrue(event.clean());
        assertEquals(Duration.ofNanos(500L), event.closeHandshakeDuration());
    }

    @Test
    void shouldCarryTheAnsweringClosesCodeAfterAnInvalidFirstClose() {
        // Given the client's first Close is itself a violation (RSV1 set, code 1005 on the wire)
        // and the upstream answers 1002 Protocol Error
        observe(C2U, Frames.masked().frame(true, 0x40 | CLOSE, new byte[] {0x03, (byte) 0xED}).build().bytes());
        observe(U2C, Frames.unmasked().close(1002, "bad close").build().bytes());

        // When both transports close
        session.transportClosed(Initiator.UPSTREAM);
        session.transportClosed(Initiator.CLIENT);

        // Then the first Close stays the recorded one, and the answer's code is carried too
        CloseEvent event = onlyEvent();
        assertEquals(1005, event.code());
        assertEquals(Initiator.CLIENT, event.initiator());
        assertEquals(1002, event.answerCode());
        assertEquals("1002", event.answerCodeText());
        assertTrue(event.clean());
        assertEquals(List.of("CLIENT_TO_UPSTREAM RESERVED_BITS", "CLIENT_TO_UPSTREAM INVALID_CLOSE_CODE"),
                listener.violations);
    }

    @Test
    void shouldHaveNoAnswerCodeWhenNothingAnswered() {
        // Given a Close from the upstream that is never answered
        observe(U2C, Frames.unmasked().close(1001, "").build().bytes());
        // and a second Close from the same side (not an answer)
        session.onCloseFrame(U2C, 1000, CATALOG.classifyWire(1000), "");

        // When both transports close
        session.transportClosed(Initiator.UPSTREAM);
        session.transportClosed(Initiator.CLIENT);

        // Then answer_code is absent
        CloseEvent event = onlyEvent();
        assertNull(event.answerCode());
        assertEquals("", event.answerCodeText());
        assertFalse(event.clean());
    }

    @Test
    void shouldBeCleanWhenTheOnlyEndpointTheProxyClosedAnswered() {
        // Given the proxy closes with 1009 toward the client only (the upstream's stream was cut)
        assertTrue(session.proxyClose(1009, "frame too big", Cause.FRAME_TOO_BIG));
        session.proxyCloseOnlyTo(Initiator.CLIENT);

        // When the client answers
        session.onCloseFrame(C2U, 1009, CATALOG.classifyWire(1009), "");

        // Then the handshake is complete without any Close from the upstream
        assertEquals(State.CLOSED, session.state());
        session.transportClosed(Initiator.UPSTREAM);
        session.transportClosed(Initiator.CLIENT);
        CloseEvent event = onlyEvent();
        assertEquals(1009, event.code());
        assertEquals(Initiator.PROXY, event.initiator());
        assertEquals(1009, event.answerCode());
        assertTrue(event.clean());
    }

    @Test
    void shouldNeedBothAnswersWhenTheProxyClosedBothEndpoints() {
        // Given the proxy closes both endpoints (a drain)
        assertTrue(session.proxyClose(1012, "restart", Cause.DRAIN));

        // When only the upstream answers
        session.onCloseFrame(U2C, 1012, CATALOG.classifyWire(1012), "");

        // Then it is still closing; the upstream's is the answer code
        assertEquals(State.CLOSING, session.state());
        session.onCloseFrame(C2U, 1000, CATALOG.classifyWire(1000), "");
        assertEquals(State.CLOSED, session.state());
        session.transportClosed(Initiator.UPSTREAM);
        session.transportClosed(Initiator.CLIENT);
        assertEquals(1012, onlyEvent().answerCode());
    }

    @Test
    void shouldSetTheReservedBitsTheNegotiatedExtensionsAllow() {
        // Given permessage-deflate in the 101
        session.negotiatedExtensions("permessage-deflate");

        // When a compressed text frame (RSV1) and an RSV2 frame pass
        observe(U2C, Frames.unmasked().frame(true, 0x40 | TEXT, utf8("z")).frame(true, 0x20 | TEXT, utf8("y"))
                .build().bytes());

        // Then only the RSV2 frame is a violation
        assertEquals("permessage-deflate", session.negotiatedExtensions());
        assertEquals(List.of("UPSTREAM_TO_CLIENT RESERVED_BITS"), listener.violations);
    }

    @Test
    void shouldReportAOneByteCloseBodyAsMalformed() {
        // Given the client sends a Close frame with a 1-byte body; the upstream answers 1002
        observe(C2U, Frames.masked().frame(true, CLOSE, new byte[] {0x03}).build().bytes());
        observe(U2C, Frames.unmasked().close(1002, "").build().bytes());

        // When both transports close
        session.transportClosed(Initiator.UPSTREAM);
        session.transportClosed(Initiator.CLIENT);

        // Then the code is the MALFORMED pseudo code, shown as "invalid", and the violation
        // went to the listener
        CloseEvent event = onlyEvent();
        assertEquals(CloseCatalog.MALFORMED, event.code());
        assertEquals("invalid", event.codeText());
        assertEquals(Category.INVALID, event.classification().category());
        assertTrue(event.clean());
        assertEquals(List.of(C2U + " " + Violation.INVALID_CLOSE_PAYLOAD_LENGTH), listener.violations);
    }

    @Test
    void shouldClassifyAReservedCodeSentOnTheWireAsInvalid() {
        // Given the upstream puts 1006 in a Close frame, which no endpoint may send (§7.4.1)
        observe(U2C, Frames.unmasked().close(1006, "").build().bytes());
        observe(C2U, Frames.masked().close(1002, "").build().bytes());

        // When both transports close
        session.transportClosed(Initiator.UPSTREAM);
        session.transportClosed(Initiator.CLIENT);

        // Then the event keeps 1006 but classified as invalid, and the violation was reported
        CloseEvent event = onlyEvent();
        assertEquals(1006, event.code());
        assertEquals("invalid", event.classification().label());
        assertEquals(Category.INVALID, event.classification().category());
        assertEquals(List.of(U2C + " " + Violation.INVALID_CLOSE_CODE), listener.violations);
    }

    @Test
    void shouldHandViolationsToTheListenerWithTheSession() {
        // Given an unmasked client frame and a masked server frame
        observe(C2U, Frames.unmasked().frame(true, TEXT, utf8("x")).build().bytes());
        observe(U2C, Frames.masked().frame(true, TEXT, utf8("y")).build().bytes());

        // Then each violation went to the listener once, with this session
        assertEquals(List.of(C2U + " " + Violation.UNMASKED_CLIENT_FRAME, U2C + " " + Violation.MASKED_SERVER_FRAME),
                listener.violations);
        assertEquals(List.of(session, session), listener.violationSessions);
    }

    @Test
    void shouldTotalTheBytesOfEachDirectionInTheEvent() {
        // Given traffic both ways, fed in pieces that split headers
        byte[] c2u = Frames.masked()
                .frame(true, TEXT, utf8("hello"))
                .frame(true, PING, utf8("p"))
                .frame(true, TEXT, new byte[300])
                .close(1000, "")
                .build().bytes();
        byte[] u2c = Frames.unmasked()
                .frame(true, TEXT, utf8("hi"))
                .frame(true, PONG, utf8("p"))
                .frame(true, 0x2, new byte[70_000])
                .close(1000, "")
                .build().bytes();
        for (int from = 0; from < c2u.length; from += 7) {
            observe(C2U, Arrays.copyOfRange(c2u, from, Math.min(c2u.length, from + 7)));
        }
        for (int from = 0; from < u2c.length; from += 4096) {
            observe(U2C, Arrays.copyOfRange(u2c, from, Math.min(u2c.length, from + 4096)));
        }

        // When both transports close
        session.transportClosed(Initiator.UPSTREAM);
        session.transportClosed(Initiator.CLIENT);

        // Then the byte totals are the exact stream lengths and the handshake completed
        CloseEvent event = onlyEvent();
        assertEquals(c2u.length, event.bytesClientToUpstream());
        assertEquals(u2c.length, event.bytesUpstreamToClient());
        assertEquals((6 + 5) + (6 + 1) + (8 + 300) + (6 + 2), c2u.length);
        assertEquals((2 + 2) + (2 + 1) + (10 + 70_000) + (2 + 2), u2c.length);
        assertTrue(event.clean());
        assertEquals(List.of(), listener.violations);
    }

    @Test
    void shouldRejectTheProxyAsATransportSide() {
        // Given an open session
        // When the proxy is named as a transport side
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> session.transportClosed(Initiator.PROXY));

        // Then the message says what was expected, and nothing was emitted
        assertEquals("side: proxy (expected: client or upstream)", e.getMessage());
        assertEquals(List.of(), listener.closed);
    }

    @Test
    void shouldRejectMissingArguments() {
        // Given a null for each required constructor argument
        // When the session is built
        // Then it fails naming the argument
        NullPointerException e = assertThrows(NullPointerException.class,
                () -> new WebSocketSession("s", "r", "c", "u", CATALOG, null, nanos::get));
        assertEquals("listener", e.getMessage());
        e = assertThrows(NullPointerException.class,
                () -> new WebSocketSession("s", "r", "c", "u", CATALOG, listener, null));
        assertEquals("nanoClock", e.getMessage());
    }

    private void observe(Direction direction, byte[] bytes) {
        ByteBuf buf = Unpooled.copiedBuffer(bytes);
        try {
            session.observer(direction).observe(buf);
            assertEquals(0, buf.readerIndex());
            assertEquals(bytes.length, buf.writerIndex());
            assertEquals(1, buf.refCnt());
        } finally {
            buf.release();
        }
    }

    private CloseEvent onlyEvent() {
        assertEquals(1, listener.closed.size(), "close events");
        return listener.closed.get(0);
    }

    private static final class RecordingListener implements SessionListener {
        final List<WebSocketSession> opened = new ArrayList<>();
        final List<String> violations = new ArrayList<>();
        final List<WebSocketSession> violationSessions = new ArrayList<>();
        final List<CloseEvent> closed = new ArrayList<>();

        @Override
        public void onOpen(WebSocketSession session) {
            opened.add(session);
        }

        @Override
        public void onViolation(WebSocketSession session, Direction direction, Violation violation) {
            violationSessions.add(session);
            violations.add(direction + " " + violation);
        }

        @Override
        public void onClose(CloseEvent event) {
            closed.add(event);
        }
    }
}
