package dev.closewatch.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.observe.CloseLogger;
import dev.closewatch.observe.Observability;
import dev.closewatch.observe.RouteMeters;
import dev.closewatch.testing.Frames;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Direction;
import dev.closewatch.websocket.Initiator;
import dev.closewatch.websocket.SessionListener;
import dev.closewatch.websocket.Violation;
import dev.closewatch.websocket.WebSocketSession;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link RelayHandler} over {@link EmbeddedChannel}s: one for the client leg, one for the upstream leg. */
class RelayHandlerTest {

    private static final CloseCatalog CATALOG = CloseCatalog.loadDefault();

    private final List<CloseEvent> events = new ArrayList<>();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private EmbeddedChannel client;
    private EmbeddedChannel upstream;

    @BeforeEach
    void setUp() {
        RouteMeters meters = new RouteMeters("r", registry);
        SessionListener listener = new SessionListener() {
            @Override
            public void onOpen(WebSocketSession session) {
            }

            @Override
            public void onViolation(WebSocketSession session, Direction direction, Violation violation) {
            }

            @Override
            public void onClose(CloseEvent event) {
                events.add(event);
            }
        };
        client = new EmbeddedChannel();
        upstream = new EmbeddedChannel();
        WebSocketSession session = new WebSocketSession("s1", "r", "c", "u", CATALOG, listener, System::nanoTime);
        Observability obs = new Observability(registry, new CloseLogger(org.slf4j.event.Level.DEBUG));
        SessionControl control = new SessionControl(session, client, upstream,
                FrontendHandlerTest.settings(new Routes(List.of()), obs));
        RelayHandler c2u = new RelayHandler(Direction.CLIENT_TO_UPSTREAM, upstream, control, meters, 0);
        RelayHandler u2c = new RelayHandler(Direction.UPSTREAM_TO_CLIENT, client, control, meters, 0);
        control.start(c2u, u2c);
        client.pipeline().addLast(c2u);
        upstream.pipeline().addLast(u2c);
    }

    @Test
    void shouldForwardTheVeryBufferUnchangedAndCountIt() {
        // Given a masked text frame from the client
        byte[] frame = Frames.masked(true, Frames.TEXT, "hello".getBytes());
        ByteBuf in = Unpooled.wrappedBuffer(frame);
        // When it is read
        client.writeInbound(in);
        // Then the same buffer, untouched, is written and flushed to the upstream
        ByteBuf out = upstream.readOutbound();
        assertSame(in, out);
        assertEquals(0, out.readerIndex());
        assertEquals(frame.length, out.readableBytes());
        out.release();
        assertEquals(1.0, registry.get("closewatch.frames").tag("direction", "client_to_upstream")
                .tag("opcode", "text").counter().count());
        assertEquals(frame.length, registry.get("closewatch.bytes").tag("direction", "client_to_upstream")
                .counter().count());
        closeBoth();
    }

    @Test
    void shouldStopReadingWhileThePeerIsNotWritableAndResumeAfter() {
        // Given an upstream leg with a tiny write buffer
        upstream.config().setOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1, 8));
        // When the client sends more than it holds, without a read-complete (no flush)
        client.pipeline().fireChannelRead(Unpooled.wrappedBuffer(Frames.masked(true, Frames.BINARY, new byte[64])));
        // Then the client leg stops reading
        assertFalse(upstream.isWritable());
        assertFalse(client.config().isAutoRead());
        // When the upstream leg drains
        upstream.flush();
        // Then reading resumes
        assertTrue(upstream.isWritable());
        assertTrue(client.config().isAutoRead());
        ((ByteBuf) upstream.readOutbound()).release();
        closeBoth();
    }

    @Test
    void shouldEndTheSessionOnceWith1006WhenTheClientLegCloses() {
        // When the client leg closes with no Close frame seen
        client.close();
        // Then the upstream leg is closed too and one 1006 event names the client
        assertFalse(upstream.isActive());
        assertEquals(1, events.size());
        assertEquals(1006, events.get(0).code());
        assertEquals(Initiator.CLIENT, events.get(0).initiator());
        assertEquals(Cause.FIN, events.get(0).cause());
        assertOnlyCloseOnFlushMarker(upstream);
        assertFalse(client.finish());
        assertFalse(upstream.finish());
    }

    @Test
    void shouldTreatAHalfCloseWithoutACloseFrameAsTheEndOfTheClientsConnection() {
        // When the client leg's input ends (a FIN, half-closure allowed) with no Close frame seen
        client.pipeline().fireUserEventTriggered(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
        // Then the client leg is closed after a flush, the upstream leg with it, and one 1006 fin names the client
        assertOnlyCloseOnFlushMarker(client);
        assertFalse(client.isActive());
        assertFalse(upstream.isActive());
        assertEquals(1, events.size());
        assertEquals(1006, events.get(0).code());
        assertEquals(Initiator.CLIENT, events.get(0).initiator());
        assertEquals(Cause.FIN, events.get(0).cause());
        assertOnlyCloseOnFlushMarker(upstream);
        assertFalse(client.finish());
        assertFalse(upstream.finish());
    }

    @Test
    void shouldRecordResetWhenTheUpstreamLegFails() {
        // When the upstream leg reports an I/O error
        upstream.pipeline().fireExceptionCaught(new IOException("Connection reset by peer"));
        // Then it is closed as a reset by the upstream
        assertEquals(1, events.size());
        assertEquals(Initiator.UPSTREAM, events.get(0).initiator());
        assertEquals(Cause.RESET, events.get(0).cause());
        assertOnlyCloseOnFlushMarker(client);
        assertFalse(client.finish());
        assertFalse(upstream.finish());
    }

    /** closeOnFlush writes one empty buffer to flush what is pending before closing. */
    private static void assertOnlyCloseOnFlushMarker(EmbeddedChannel ch) {
        ByteBuf marker = ch.readOutbound();
        assertEquals(0, marker.readableBytes());
        marker.release();
        assertNull(ch.readOutbound());
    }

    private void closeBoth() {
        client.close();
        assertOnlyCloseOnFlushMarker(upstream);
        upstream.close();
        assertFalse(client.finish());
        assertFalse(upstream.finish());
    }
}
