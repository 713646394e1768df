package dev.closewatch.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.catalog.CloseCode;
import dev.closewatch.testing.TrackingAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes {@link FrameObserver} differentially against Netty's {@link WebSocket08FrameDecoder}
 * (RFC 6455 §5.2–5.5, §7.4): arbitrary byte streams, cut where the input says, read three ways.
 *
 * <ol>
 *   <li><b>Reference</b>: a FrameObserver fed one byte at a time. Each frame's start, header end
 *       and end, its opcode, and the Close frames and violations reported (with the frame they
 *       belong to) are taken from it.</li>
 *   <li><b>Cut</b>: a FrameObserver fed the stream cut at the input's points, through the path the
 *       relay uses ({@link FrameObserver#observe(ByteBuf)}, the fast path), through
 *       {@link FrameObserver#observe(ByteBuf, int, boolean)} without stops, frame by frame with
 *       stops at every frame end, or a mix; optionally with a payload limit
 *       ({@link FrameObserver#maxFramePayload(long)}) that must stop it before the first frame
 *       over it. Every buffer has junk before its reader index and after its writer index. After
 *       every cut it must agree with the reference exactly: bytes, frame counts by opcode,
 *       whether it is between frames, and the same Close frames and violations in the same
 *       order; it never changes a buffer's indices or bytes.</li>
 *   <li><b>Netty</b>: a {@code WebSocket08FrameDecoder} configured like this direction's peer
 *       (masked client frames expected for client→upstream, no mask mismatch allowed, no
 *       extensions, any payload length up to {@code Integer.MAX_VALUE}), fed the same cuts.</li>
 * </ol>
 *
 * <p>Wherever Netty accepts the stream, the reference must have read the same frames: same
 * opcodes, same payload lengths, the same frame ends (Netty insists on the minimal length
 * encoding and this direction's masking, so a frame's header length follows from its payload
 * length), the same Close status codes and reasons, and no violation. Where they may differ:
 * <ul>
 *   <li>Netty stops at its first protocol error, the observer reports it and keeps reading:
 *       only the prefix Netty accepted is compared; on the frame Netty refused the observer must
 *       report a violation too (if it has read that frame's header), except when Netty refused
 *       it for a reason the observer does not check: a 64-bit length over Netty's {@code int}
 *       limit; and a Close frame with a 1-byte payload that has not arrived
 *       (Netty refuses the header, the observer reports the Close frame when it is complete).</li>
 *   <li>Netty ignores everything after a Close frame (RFC 6455 §5.5.1); the observer goes on
 *       (and reports {@link Violation#FRAME_AFTER_CLOSE}): comparison stops at the first Close.</li>
 *   <li>Status codes 5000 and above: RFC 6455 §7.4.2 defines none, the catalog refuses them;
 *       Netty accepts any code from 3000 on ({@link WebSocketCloseStatus#isValidStatusCode}).</li>
 *   <li>A close reason that ends in an incomplete UTF-8 sequence: Netty's close-body check never
 *       asks its validator whether the last sequence finished; the observer reports
 *       {@link Violation#INVALID_CLOSE_REASON}.</li>
 * </ul>
 * Netty's decoder does not validate text frames' UTF-8 (its {@code Utf8FrameValidator} does),
 * and neither does the observer, which reads only headers and Close payloads.
 *
 * <p>Input layout (so a seed can be written by hand): byte 0 flags — bit 0 client→upstream,
 * bits 1–2 how the cut observer is fed (0 the fast path, 1 the general path, 2 frame by frame,
 * 3 a mix by cut), bit 3 a payload limit of byte 1 bytes; byte 2 the number n of cut lengths
 * that follow, each one byte holding length − 1, used in turn until the stream is consumed;
 * then the stream.
 */
class FrameObserverFuzzTest {

    private static final CloseCatalog CATALOG = CloseCatalog.loadDefault();
    private static final byte[] JUNK = {(byte) 0x88, 0x02, 0x03, (byte) 0xEA};
    private static final int PLAIN = 0;
    private static final int GENERAL = 1;
    private static final int FRAME_BY_FRAME = 2;
    private static final int MIXED = 3;

    @FuzzTest(maxDuration = "60s")
    void shouldReadEveryStreamAsNettyDoes(byte[] input) {
        // Given a direction, a way of feeding, cut lengths and a stream chosen by the input
        Input in = Input.parse(input);

        // When a reference observer reads it a byte at a time
        Reference reference = Reference.read(in.direction, in.stream);

        // Then an observer fed the same bytes cut anywhere, any way, reads the same
        readCut(in, reference);
        // And wherever Netty accepts the stream, Netty read the same frames
        compareWithNetty(in, reference);
    }

    @Test
    void shouldReadTheRfcExampleFramesAsNettyDoesInTheReference() {
        // Given the server frames of RFC 6455 §5.7 (unmasked "Hello", "Hel" + "lo" fragmented, a
        // Ping "Hello", 256 bytes binary) and a Close 1000, cut after 3 and then every 5 bytes
        byte[] stream = {(byte) 0x81, 0x05, 'H', 'e', 'l', 'l', 'o', 0x01, 0x03, 'H', 'e', 'l', (byte) 0x80, 0x02, 'l',
                'o', (byte) 0x89, 0x05, 'H', 'e', 'l', 'l', 'o', (byte) 0x82, 0x7E, 0x01, 0x00};
        stream = Arrays.copyOf(stream, stream.length + 256 + 4);
        System.arraycopy(new byte[] {(byte) 0x88, 0x02, 0x03, (byte) 0xE8}, 0, stream, stream.length - 4, 4);
        Input in = new Input(Direction.UPSTREAM_TO_CLIENT, MIXED, 0, new int[] {3, 5}, stream);

        // When the reference reads it a byte at a time
        Reference reference = Reference.read(in.direction, in.stream);

        // Then it found each frame where the RFC puts it, and the cut reads and Netty agree
        assertEquals(List.of(
                new Frame(Opcode.TEXT.ordinal(), 0, 2, 7),
                new Frame(Opcode.TEXT.ordinal(), 7, 9, 12),
                new Frame(Opcode.CONTINUATION.ordinal(), 12, 14, 16),
                new Frame(Opcode.PING.ordinal(), 16, 18, 23),
                new Frame(Opcode.BINARY.ordinal(), 23, 27, 283),
                new Frame(Opcode.CLOSE.ordinal(), 283, 285, 287)), reference.frames);
        assertEquals(List.of(new Event(null, 1000, CATALOG.classifyWire(1000), "", 5)), reference.events);
        readCut(in, reference);
        compareWithNetty(in, reference);
    }

    // ---------------------------------------------------------------------------------------
    // The input
    // ---------------------------------------------------------------------------------------

    private record Input(Direction direction, int mode, long limit, int[] cuts, byte[] stream) {

        static Input parse(byte[] input) {
            int flags = input.length > 0 ? input[0] & 0xFF : 0;
            Direction direction = (flags & 1) != 0 ? Direction.CLIENT_TO_UPSTREAM : Direction.UPSTREAM_TO_CLIENT;
            int mode = (flags >>> 1) & 3;
            long limit = (flags & 8) != 0 && input.length > 1 ? input[1] & 0xFF : 0;
            int n = input.length > 2 ? input[2] & 0xFF : 0;
            int p = Math.min(input.length, 3);
            n = Math.min(n, input.length - p);
            int[] cuts = new int[n];
            for (int k = 0; k < n; k++) {
                cuts[k] = (input[p++] & 0xFF) + 1;
            }
            return new Input(direction, mode, limit, cuts, Arrays.copyOfRange(input, p, input.length));
        }

        /** The [start, end) offsets of the pieces the stream is cut into. */
        List<int[]> pieces() {
            List<int[]> pieces = new ArrayList<>();
            int at = 0;
            for (int k = 0; at < stream.length; k++) {
                int length = cuts.length == 0 ? stream.length : cuts[k % cuts.length];
                int end = Math.min(stream.length, at + length);
                pieces.add(new int[] {at, end});
                at = end;
            }
            return pieces;
        }
    }

    /** Something the observer reported: a Close frame (code, classification, reason) or a violation. */
    private record Event(Violation violation, int code, CloseCode classification, String reason, int frame) {

        /** The event without the frame it was attributed to. */
        Event bare() {
            return new Event(violation, code, classification, reason, -1);
        }
    }

    private static final class Recorder implements FrameObserver.Listener {
        final List<Event> events = new ArrayList<>();
        final Direction direction;

        Recorder(Direction direction) {
            this.direction = direction;
        }

        @Override
        public void onCloseFrame(Direction d, int code, CloseCode classification, String reason) {
            assertEquals(direction, d);
            events.add(new Event(null, code, classification, reason, -1));
        }

        @Override
        public void onViolation(Direction d, Violation violation) {
            assertEquals(direction, d);
            events.add(new Event(violation, 0, null, null, -1));
        }
    }

    /** A frame as the reference read it; {@code end} is -1 while its payload is incomplete. */
    private record Frame(int kind, int start, int headerEnd, int end) {
        long payloadLength() {
            return end - headerEnd;
        }
    }

    /** A buffer holding {@code stream[from, to)} readable, with junk around it in the same array. */
    private static ByteBuf framed(byte[] stream, int from, int to) {
        byte[] array = new byte[JUNK.length + (to - from) + JUNK.length];
        System.arraycopy(JUNK, 0, array, 0, JUNK.length);
        System.arraycopy(stream, from, array, JUNK.length, to - from);
        System.arraycopy(JUNK, 0, array, JUNK.length + (to - from), JUNK.length);
        return Unpooled.wrappedBuffer(array).setIndex(JUNK.length, JUNK.length + (to - from));
    }

    // ---------------------------------------------------------------------------------------
    // The reference: a byte at a time
    // ---------------------------------------------------------------------------------------

    private static final class Reference {
        final List<Frame> frames = new ArrayList<>();
        final List<Event> events = new ArrayList<>();
        /** Bit o set when the observer was between frames after o bytes. */
        final BitSet boundary = new BitSet();
        /** Stream offset at which each event was reported (after that many bytes). */
        final List<Integer> eventOffsets = new ArrayList<>();

        static Reference read(Direction direction, byte[] stream) {
            Reference ref = new Reference();
            Recorder recorder = new Recorder(direction);
            FrameObserver observer = new FrameObserver(direction, CATALOG, recorder);
            ref.boundary.set(0);
            int nextStart = 0;
            for (int o = 0; o < stream.length; o++) {
                ByteBuf one = framed(stream, o, o + 1);
                observer.observe(one);
                one.release();
                int headerEnd = o + 1;
                int start = nextStart;
                int framesBefore = ref.frames.size();
                observer.drainCounts((d, counts, bytes) -> {
                    assertEquals(1, bytes, "bytes counted for one byte");
                    for (int kind = 0; kind < counts.length; kind++) {
                        for (long c = 0; c < counts[kind]; c++) {
                            ref.frames.add(new Frame(kind, start, headerEnd, -1));
                        }
                    }
                });
                assertTrue(ref.frames.size() - framesBefore <= 1, "one byte completes at most one frame header");
                for (Event e : recorder.events) {
                    assertTrue(!ref.frames.isEmpty(), "an event before any frame header: " + e);
                    ref.events.add(new Event(e.violation, e.code, e.classification, e.reason, ref.frames.size() - 1));
                    ref.eventOffsets.add(o + 1);
                }
                recorder.events.clear();
                if (observer.atFrameBoundary()) {
                    ref.boundary.set(o + 1);
                    Frame last = ref.frames.get(ref.frames.size() - 1);
                    assertEquals(-1, last.end, "a frame boundary with no frame in progress at " + (o + 1));
                    ref.frames.set(ref.frames.size() - 1, new Frame(last.kind, last.start, last.headerEnd, o + 1));
                    nextStart = o + 1;
                }
                assertEquals(o + 1, observer.totalBytes());
            }
            return ref;
        }

        long[] countsAt(int offset) {
            long[] counts = new long[Opcode.COUNT];
            for (Frame f : frames) {
                if (f.headerEnd <= offset) {
                    counts[f.kind]++;
                }
            }
            return counts;
        }

        List<Event> eventsUpTo(int offset) {
            List<Event> upTo = new ArrayList<>();
            for (int k = 0; k < events.size() && eventOffsets.get(k) <= offset; k++) {
                upTo.add(events.get(k).bare());
            }
            return upTo;
        }

        /** The frame whose header ended at {@code offset}. */
        Frame frameWithHeaderEnd(int offset) {
            return frames.stream().filter(f -> f.headerEnd == offset).findFirst()
                    .orElseThrow(() -> new AssertionError("no frame header ends at " + offset));
        }
    }

    // ---------------------------------------------------------------------------------------
    // The cut observer
    // ---------------------------------------------------------------------------------------

    private static void readCut(Input in, Reference ref) {
        Recorder recorder = new Recorder(in.direction);
        FrameObserver observer = new FrameObserver(in.direction, CATALOG, recorder);
        observer.maxFramePayload(in.limit);
        boolean limited = in.limit > 0;
        Frame firstOversized = limited ? ref.frames.stream()
                .filter(f -> payloadLengthOf(in.stream, f) < 0 || payloadLengthOf(in.stream, f) > in.limit)
                .findFirst().orElse(null) : null;
        boolean stopped = false;
        long[] counted = new long[Opcode.COUNT];
        // The frame the observer stopped on is never relayed, so it is in no frame count (issue 10
        // item 10: counts stand for frames delivered); the reference counts every frame it read.
        long[] notDelivered = new long[Opcode.COUNT];
        List<int[]> pieces = in.pieces();
        for (int k = 0; k < pieces.size(); k++) {
            int from = pieces.get(k)[0];
            int to = pieces.get(k)[1];
            ByteBuf buf = framed(in.stream, from, to);
            byte[] before = Arrays.copyOf(buf.array(), buf.array().length);
            int mode = in.mode == MIXED ? k % 3 : in.mode;
            if (mode == PLAIN && limited && !stopped) {
                // The relay reads with a limit only through the general path (RelayHandler#readCarefully).
                mode = GENERAL;
            }
            String where = "piece " + k + " [" + from + ", " + to + ") mode " + mode;
            int base = JUNK.length - from; // buffer index = stream offset + base
            if (mode == PLAIN) {
                observer.observe(buf);
            } else {
                int i = buf.readerIndex();
                while (i < buf.writerIndex()) {
                    boolean stopAtEnd = mode == FRAME_BY_FRAME;
                    if (stopAtEnd && observer.atFrameBoundary()) {
                        // Between frames a stop is immediate; a byte of the next header first.
                        assertEquals(i, observer.observe(buf, i, true), where);
                        assertEquals(i, observer.resumeIndex(), where);
                        observer.observe(buf.slice(i, 1));
                        i++;
                        continue;
                    }
                    int callFrom = i - base;
                    int r = observer.observe(buf, i, stopAtEnd);
                    if (r == FrameObserver.NO_STOP) {
                        break;
                    }
                    int resume = observer.resumeIndex();
                    if (observer.stoppedOnOversizedFrame()) {
                        Frame f = ref.frameWithHeaderEnd(resume - base);
                        assertEquals(firstOversized, f, where + ": stopped on the first frame over " + in.limit);
                        assertTrue(!stopped, where + ": stopped twice on oversized frames");
                        // Bytes before the call's start were relayed already: the cut is at the
                        // frame's start or, if its header began earlier, at the call's start.
                        assertEquals(Math.max(f.start, callFrom), r - base, where + ": forwardable up to the frame's start");
                        assertEquals(f.start < callFrom, observer.oversizedHeaderSplit(), where + ": header split");
                        stopped = true;
                        notDelivered[f.kind()]++;
                        // The relay stops relaying this direction and only observes the rest.
                        observer.maxFramePayload(0);
                    } else {
                        assertTrue(stopAtEnd, where + ": a stop without a stop asked for at " + (r - base));
                        assertEquals(r, resume, where);
                        assertTrue(ref.boundary.get(r - base), where + ": stopped at " + (r - base)
                                + ", not a frame end");
                        assertTrue(observer.atFrameBoundary(), where);
                        assertTrue(r > i, where + ": a stop inside a frame must read to its end");
                    }
                    i = resume;
                }
            }
            assertEquals(JUNK.length, buf.readerIndex(), where + ": reader index moved");
            assertEquals(JUNK.length + (to - from), buf.writerIndex(), where + ": writer index moved");
            assertTrue(Arrays.equals(before, buf.array()), where + ": bytes changed");
            buf.release();

            assertEquals(to, observer.totalBytes(), where + ": bytes observed");
            assertEquals(ref.boundary.get(to), observer.atFrameBoundary(), where + ": between frames after " + to);
            observer.drainCounts((d, counts, bytes) -> {
                for (int kind = 0; kind < counts.length; kind++) {
                    counted[kind] += counts[kind];
                }
            });
            long[] expected = ref.countsAt(to).clone();
            for (int kind = 0; kind < expected.length; kind++) {
                expected[kind] -= notDelivered[kind];
            }
            assertEquals(Arrays.toString(expected), Arrays.toString(counted), where + ": frames by opcode");
            assertEquals(ref.eventsUpTo(to), recorder.events, where + ": Close frames and violations");
        }
        if (firstOversized != null) {
            assertTrue(stopped, "never stopped on the frame over the limit " + in.limit + ": " + firstOversized);
        }
    }

    /**
     * The payload length field of a frame whose header the reference read completely, as a
     * signed 64-bit value (negative when the most significant bit is set, RFC 6455 §5.2).
     */
    private static long payloadLengthOf(byte[] stream, Frame f) {
        int len7 = stream[f.start + 1] & 0x7F;
        if (len7 < 126) {
            return len7;
        }
        int n = len7 == 126 ? 2 : 8;
        long length = 0;
        for (int k = 0; k < n; k++) {
            length = length << 8 | stream[f.start + 2 + k] & 0xFF;
        }
        return length;
    }

    // ---------------------------------------------------------------------------------------
    // Netty
    // ---------------------------------------------------------------------------------------

    private record NettyFrame(int kind, long payloadLength, int code, String reason, byte[] reasonBytes) {
        @Override
        public String toString() {
            return "NettyFrame[kind=" + Opcode.values()[kind] + ", payloadLength=" + payloadLength
                    + (kind == Opcode.CLOSE.ordinal() ? ", code=" + code + ", reason=" + Arrays.toString(reasonBytes) : "")
                    + "]";
        }
    }

    private static void compareWithNetty(Input in, Reference ref) {
        boolean masked = in.direction == Direction.CLIENT_TO_UPSTREAM;
        WebSocketDecoderConfig config = WebSocketDecoderConfig.newBuilder()
                .expectMaskedFrames(masked)
                .allowMaskMismatch(false)
                .allowExtensions(false)
                .maxFramePayloadLength(Integer.MAX_VALUE)
                .closeOnProtocolViolation(false)
                .build();
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.config().setAllocator(alloc);
        channel.pipeline().addLast(new WebSocket08FrameDecoder(config));
        List<NettyFrame> frames = new ArrayList<>();
        boolean refused = false;
        for (int[] piece : in.pieces()) {
            ByteBuf buf = alloc.buffer(piece[1] - piece[0]).writeBytes(in.stream, piece[0], piece[1] - piece[0]);
            try {
                channel.writeInbound(buf);
            } catch (RuntimeException e) {
                refused = true;
            }
            drain(channel, frames);
            if (refused) {
                break;
            }
        }
        channel.finishAndReleaseAll();
        alloc.assertAllReleased("Netty's decoder");

        // Netty's frames, one by one, against the reference's
        int end = 0;
        for (int k = 0; k < frames.size(); k++) {
            NettyFrame n = frames.get(k);
            String where = "frame " + k + " " + n;
            assertTrue(k < ref.frames.size(), where + ": Netty read a frame the observer did not start");
            Frame f = ref.frames.get(k);
            end += 2 + (n.payloadLength < 126 ? 0 : n.payloadLength < 65536 ? 2 : 8) + (masked ? 4 : 0)
                    + (int) n.payloadLength;
            assertEquals(n.kind, f.kind, where + ": opcode");
            assertEquals(end, f.end, where + ": frame end");
            assertEquals(n.payloadLength, f.payloadLength(), where + ": payload length");
            for (Event e : eventsOf(ref, k)) {
                boolean nettyLax = e.violation == Violation.INVALID_CLOSE_CODE && n.code >= 5000
                        || e.violation == Violation.INVALID_CLOSE_REASON && endsInTruncatedUtf8(n.reasonBytes);
                if (e.violation == null) {
                    assertEquals(Opcode.CLOSE.ordinal(), n.kind, where + ": a Close frame reported for it");
                    assertEquals(n.code, e.code, where + ": status code");
                    CloseCode expected = n.reasonBytes == null ? CATALOG.lookup(CloseCatalog.NO_STATUS_RECEIVED)
                            : CATALOG.classifyWire(n.code);
                    assertEquals(expected, e.classification, where + ": classification");
                    assertEquals(n.reason, e.reason, where + ": close reason");
                } else if (!nettyLax) {
                    fail(where + ": Netty accepted it, the observer reported " + e.violation);
                }
            }
            if (n.kind == Opcode.CLOSE.ordinal()) {
                assertEquals(1, eventsOf(ref, k).stream().filter(e -> e.violation == null).count(),
                        where + ": Close frames reported for it");
                return; // Netty reads nothing after a Close frame
            }
        }
        if (!refused) {
            // Netty took every byte: the observer has no complete frame more than Netty
            long complete = ref.frames.stream().filter(f -> f.end != -1).count();
            assertEquals(frames.size(), complete, "complete frames when Netty accepted the whole stream");
            return;
        }
        int k = frames.size();
        if (k >= ref.frames.size()) {
            return; // Netty refused a header the observer has not finished reading
        }
        Frame f = ref.frames.get(k);
        long length = payloadLengthOf(in.stream, f);
        boolean overNettyLimit = length > Integer.MAX_VALUE;
        // Netty refuses a 1-byte Close payload at the header; the observer reports it with the
        // Close frame, once the payload is there.
        boolean closeAwaitingPayload = f.kind == Opcode.CLOSE.ordinal() && f.end == -1 && length == 1;
        if (overNettyLimit || closeAwaitingPayload) {
            return;
        }
        assertTrue(eventsOf(ref, k).stream().anyMatch(e -> e.violation != null),
                "frame " + k + " " + f + ": Netty refused it, the observer reported no violation; events "
                        + eventsOf(ref, k));
    }

    /**
     * Whether {@code bytes} are valid UTF-8 but for an incomplete sequence at the end: Netty's
     * {@code checkCloseFrameBody} runs its {@code Utf8Validator} without {@code finish()}, so it
     * accepts such a close reason (RFC 6455 §5.5.1 requires valid UTF-8; the observer reports it).
     */
    private static boolean endsInTruncatedUtf8(byte[] bytes) {
        for (int cut = 1; cut <= 3 && cut <= bytes.length; cut++) {
            if (strictUtf8(Arrays.copyOf(bytes, bytes.length - cut))) {
                return !strictUtf8(bytes);
            }
        }
        return false;
    }

    private static boolean strictUtf8(byte[] bytes) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    private static List<Event> eventsOf(Reference ref, int frame) {
        return ref.events.stream().filter(e -> e.frame == frame).toList();
    }

    private static void drain(EmbeddedChannel channel, List<NettyFrame> frames) {
        Object msg;
        while ((msg = channel.readInbound()) != null) {
            WebSocketFrame frame = (WebSocketFrame) msg;
            try {
                int kind = frame instanceof ContinuationWebSocketFrame ? Opcode.CONTINUATION.ordinal()
                        : frame instanceof TextWebSocketFrame ? Opcode.TEXT.ordinal()
                        : frame instanceof BinaryWebSocketFrame ? Opcode.BINARY.ordinal()
                        : frame instanceof CloseWebSocketFrame ? Opcode.CLOSE.ordinal()
                        : frame instanceof PingWebSocketFrame ? Opcode.PING.ordinal()
                        : frame instanceof PongWebSocketFrame ? Opcode.PONG.ordinal() : -1;
                int code = 0;
                String reason = null;
                byte[] reasonBytes = null;
                if (frame instanceof CloseWebSocketFrame close) {
                    code = close.statusCode() == -1 ? CloseCatalog.NO_STATUS_RECEIVED : close.statusCode();
                    reason = Objects.requireNonNullElse(close.reasonText(), "");
                    if (close.content().readableBytes() >= 2) {
                        reasonBytes = ByteBufUtil.getBytes(close.content(), close.content().readerIndex() + 2,
                                close.content().readableBytes() - 2);
                    }
                }
                frames.add(new NettyFrame(kind, frame.content().readableBytes(), code, reason, reasonBytes));
            } finally {
                frame.release();
            }
        }
    }
}
