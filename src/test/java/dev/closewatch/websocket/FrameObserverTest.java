package dev.closewatch.websocket;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.catalog.Category;
import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.catalog.CloseCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link FrameObserver} read against an independent encoding of RFC 6455 §5.2 (frame header)
 * and §5.3 (masking), written by hand in {@link Frames}. Every stream is fed whole, split in two
 * at every offset, and a byte at a time (for the 64 KiB payloads: at every offset around the
 * frame headers and at a few payload offsets), and must yield the same Close frames, violations,
 * frame counts and byte counts every time.
 */
class FrameObserverTest {

    private static final Direction C2U = Direction.CLIENT_TO_UPSTREAM;
    private static final Direction U2C = Direction.UPSTREAM_TO_CLIENT;

    private static final int CONTINUATION = 0x0;
    private static final int TEXT = 0x1;
    private static final int BINARY = 0x2;
    private static final int CLOSE = 0x8;
    private static final int PING = 0x9;
    private static final int PONG = 0xA;

    /** Streams longer than this are split only around frame headers and at a few payload offsets. */
    private static final int EXHAUSTIVE_SPLIT_LIMIT = 1024;

    /**
     * Bytes placed before the reader index and after the writer index of every buffer fed: a
     * complete unmasked Close frame with status 1002, so an observer that read outside the
     * readable bytes would report a Close frame (or a violation) that the stream does not hold.
     */
    private static final byte[] JUNK = {(byte) 0x88, 0x02, 0x03, (byte) 0xEA};

    private static final CloseCatalog CATALOG = CloseCatalog.loadDefault();

    // ---------------------------------------------------------------------------------------
    // Payload lengths and length encodings (§5.2)
    // ---------------------------------------------------------------------------------------

    @ParameterizedTest(name = "payload {0} bytes")
    @ValueSource(ints = {0, 1, 125, 126, 127, 65535, 65536})
    void shouldCountBinaryFramesOfEveryLengthEncodingUnmasked(int length) {
        shouldCountDataFramesOfLength(U2C, length);
    }

    @ParameterizedTest(name = "payload {0} bytes")
    @ValueSource(ints = {0, 1, 125, 126, 127, 65535, 65536})
    void shouldCountBinaryFramesOfEveryLengthEncodingMasked(int length) {
        shouldCountDataFramesOfLength(C2U, length);
    }

    private void shouldCountDataFramesOfLength(Direction direction, int length) {
        // Given a binary frame of the given length (7-bit, 16-bit or 64-bit length field)
        // between two small text frames, then a Close frame, so the header after the big
        // payload must be found exactly where the length says
        byte[] payload = pattern(length);
        Stream stream = Frames.forDirection(direction)
                .frame(true, TEXT, utf8("a"))
                .frame(true, BINARY, payload)
                .frame(true, TEXT, utf8("z"))
                .close(1000, "done")
                .build();
        assertEquals(headerLength(direction, length), stream.frameStarts()[2] - stream.frameStarts()[1] - length,
                "header length of the helper's encoding");

        // When it is fed split at every offset (around the headers for big payloads)
        // Then every feed reads the same frames
        assertEveryFeed(direction, stream, new Expected(
                List.of(closed(direction, 1000, "1000", Category.NORMAL, "done")),
                counts(0, 2, 1, 1, 0, 0, 0)));
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldUse16BitLengthFor126And65535And64BitLengthFor65536(Direction direction) {
        // Given the helper's encoding of the three boundary lengths
        // When the second header byte and the extended length field are inspected
        // Then they follow §5.2: 126 → 16-bit length, 65535 → 16-bit, 65536 → 127 + 64-bit
        byte[] f126 = Frames.forDirection(direction).frame(true, BINARY, new byte[126]).build().bytes();
        byte[] f65535 = Frames.forDirection(direction).frame(true, BINARY, new byte[65535]).build().bytes();
        byte[] f65536 = Frames.forDirection(direction).frame(true, BINARY, new byte[65536]).build().bytes();
        int maskBit = direction == C2U ? 0x80 : 0;
        assertEquals(maskBit | 126, f126[1] & 0xFF);
        assertEquals(0x007E, ((f126[2] & 0xFF) << 8) | (f126[3] & 0xFF));
        assertEquals(maskBit | 126, f65535[1] & 0xFF);
        assertEquals(0xFFFF, ((f65535[2] & 0xFF) << 8) | (f65535[3] & 0xFF));
        assertEquals(maskBit | 127, f65536[1] & 0xFF);
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 1, 0, 0}, Arrays.copyOfRange(f65536, 2, 10));
    }

    @Test
    void shouldReadTheExampleFramesOfRfc6455Section5_7() {
        // Given the example frames of §5.7, byte for byte as the RFC prints them, sent by a
        // server: unmasked "Hello", fragmented unmasked "Hel"+"lo", unmasked ping "Hello",
        // 256 bytes binary in one unmasked frame, 64KiB binary in one unmasked frame
        byte[] hello = {(byte) 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
        byte[] fragmented = {0x01, 0x03, 0x48, 0x65, 0x6c, (byte) 0x80, 0x02, 0x6c, 0x6f};
        byte[] ping = {(byte) 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
        byte[] binary256 = concat(new byte[] {(byte) 0x82, 0x7E, 0x01, 0x00}, new byte[256]);
        byte[] binary64k = concat(new byte[] {(byte) 0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}, new byte[65536]);
        byte[] server = concat(hello, fragmented, ping, binary256, binary64k);

        // and the masked examples a client sends: masked "Hello" and a masked pong "Hello"
        byte[] maskedHello = {(byte) 0x81, (byte) 0x85, 0x37, (byte) 0xfa, 0x21, 0x3d, 0x7f, (byte) 0x9f, 0x4d, 0x51, 0x58};
        byte[] maskedPong = {(byte) 0x8a, (byte) 0x85, 0x37, (byte) 0xfa, 0x21, 0x3d, 0x7f, (byte) 0x9f, 0x4d, 0x51, 0x58};
        byte[] client = concat(maskedHello, maskedPong);

        // When they are fed split at every offset
        // Then every frame is found, and none breaks a rule
        assertEveryFeed(U2C, new Stream(server, new int[] {0, 7, 12, 16, 23, 283}), new Expected(
                List.of(), counts(1, 2, 2, 0, 1, 0, 0)));
        assertEveryFeed(C2U, new Stream(client, new int[] {0, 11}), new Expected(
                List.of(), counts(0, 1, 0, 0, 0, 1, 0)));

        // and this test's encoder writes the same bytes for the same frames
        assertArrayEquals(hello, Frames.unmasked().frame(true, TEXT, utf8("Hello")).build().bytes());
        assertArrayEquals(binary64k, Frames.unmasked().frame(true, BINARY, new byte[65536]).build().bytes());
        assertArrayEquals(maskedHello, Frames.masked().frame(true, TEXT, utf8("Hello")).build().bytes());
    }

    // ---------------------------------------------------------------------------------------
    // Fragmentation and interleaved control frames (§5.4, §5.5)
    // ---------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldAcceptPingAndPongInterleavedInAFragmentedTextMessage(Direction direction) {
        // Given text fin=0, ping, continuation fin=0, pong, continuation fin=1, then a new
        // unfragmented text message (§5.4: control frames MAY be injected in the middle of a
        // fragmented message)
        Stream stream = Frames.forDirection(direction)
                .frame(false, TEXT, utf8("Hel"))
                .frame(true, PING, utf8("are you there?"))
                .frame(false, CONTINUATION, utf8("lo, "))
                .frame(true, PONG, new byte[0])
                .frame(true, CONTINUATION, utf8("world"))
                .frame(true, TEXT, utf8("next"))
                .build();

        // When it is fed split at every offset
        // Then no violation is reported and every frame is counted under its opcode
        assertEveryFeed(direction, stream, new Expected(List.of(), counts(2, 2, 0, 0, 1, 1, 0)));
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldAcceptAFragmentedBinaryMessageWithEmptyFragments(Direction direction) {
        // Given binary fin=0 (empty), continuation fin=0 (126 bytes), continuation fin=1 (empty)
        Stream stream = Frames.forDirection(direction)
                .frame(false, BINARY, new byte[0])
                .frame(false, CONTINUATION, pattern(126))
                .frame(true, CONTINUATION, new byte[0])
                .build();

        // When it is fed split at every offset
        // Then it is one well-formed message
        assertEveryFeed(direction, stream, new Expected(List.of(), counts(2, 0, 1, 0, 0, 0, 0)));
    }

    // ---------------------------------------------------------------------------------------
    // Close frames (§5.5.1, §7.4)
    // ---------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldReportCloseCodeAndUnmaskedReason(Direction direction) {
        // Given a Close frame 1001 with a multi-byte UTF-8 reason longer than the masking key,
        // so every masking-key byte is used several times (§5.3: j = i MOD 4)
        String reason = "server restarting — adiós ✓";
        Stream stream = Frames.forDirection(direction).close(1001, reason).build();

        // When it is fed split at every offset
        // Then the code and the reason are read exactly
        assertEveryFeed(direction, stream, new Expected(
                List.of(closed(direction, 1001, "1001", Category.GOING_AWAY, reason)),
                counts(0, 0, 0, 1, 0, 0, 0)));
    }

    @Test
    void shouldUnmaskTheCloseFramePayloadWithTheRfcExampleMaskingKey() {
        // Given the masking key of RFC 6455 §5.7's example (0x37 0xfa 0x21 0x3d) on a Close
        // frame 1000 "Hello", encoded byte by byte here rather than by the helper
        byte[] key = {0x37, (byte) 0xFA, 0x21, 0x3D};
        byte[] payload = {0x03, (byte) 0xE8, 'H', 'e', 'l', 'l', 'o'};
        byte[] wire = new byte[2 + 4 + payload.length];
        wire[0] = (byte) 0x88;
        wire[1] = (byte) (0x80 | payload.length);
        System.arraycopy(key, 0, wire, 2, 4);
        for (int i = 0; i < payload.length; i++) {
            wire[6 + i] = (byte) (payload[i] ^ key[i % 4]);
        }
        // worked by hand: 03^37 E8^FA 'H'^21 'e'^3D 'l'^37 'l'^FA 'o'^21
        assertArrayEquals(new byte[] {0x34, 0x12, 0x69, 0x58, 0x5B, (byte) 0x96, 0x4E}, Arrays.copyOfRange(wire, 6, 13));

        // When it is fed split at every offset
        // Then the reason reads "Hello"
        assertEveryFeed(C2U, new Stream(wire, new int[] {0}), new Expected(
                List.of(closed(C2U, 1000, "1000", Category.NORMAL, "Hello")),
                counts(0, 0, 0, 1, 0, 0, 0)));
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldReportEmptyCloseAs1005WithoutViolation(Direction direction) {
        // Given a Close frame with no payload
        Stream stream = Frames.forDirection(direction).frame(true, CLOSE, new byte[0]).build();

        // When it is fed split at every offset
        // Then it reads as 1005 No Status Received, category no_status, and breaks no rule
        assertEveryFeed(direction, stream, new Expected(
                List.of(closed(direction, CloseCatalog.NO_STATUS_RECEIVED, "1005", Category.NO_STATUS, "")),
                counts(0, 0, 0, 1, 0, 0, 0)));
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldReportCloseWithCodeAndNoReason(Direction direction) {
        // Given a Close frame with exactly the 2-byte status code 1000
        Stream stream = Frames.forDirection(direction).frame(true, CLOSE, new byte[] {0x03, (byte) 0xE8}).build();

        // When it is fed split at every offset
        // Then it reads as 1000 with an empty reason
        assertEveryFeed(direction, stream, new Expected(
                List.of(closed(direction, 1000, "1000", Category.NORMAL, "")),
                counts(0, 0, 0, 1, 0, 0, 0)));
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldReportOneByteCloseBodyAsMalformed(Direction direction) {
        // Given a Close frame whose payload is a single byte (§5.5.1: the body, if any, starts
        // with a 2-byte status code)
        Stream stream = Frames.forDirection(direction).frame(true, CLOSE, new byte[] {0x03}).build();

        // When it is fed split at every offset
        // Then the violation is reported, and the Close frame with the MALFORMED pseudo code
        assertEveryFeed(direction, stream, new Expected(
                List.of(violated(direction, Violation.INVALID_CLOSE_PAYLOAD_LENGTH),
                        closed(direction, CloseCatalog.MALFORMED, "invalid", Category.INVALID, "")),
                counts(0, 0, 0, 1, 0, 0, 0)));
    }

    @ParameterizedTest(name = "code {0}")
    @ValueSource(ints = {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535})
    void shouldReportCodesThatMustNotBeSentAsInvalid(int code) {
        for (Direction direction : Direction.values()) {
            // Given a Close frame carrying a status code §7.4 forbids on the wire
            Stream stream = Frames.forDirection(direction).close(code, "x").build();

            // When it is fed split at every offset
            // Then INVALID_CLOSE_CODE is reported and the code is classified "invalid"
            assertEveryFeed(direction, stream, new Expected(
                    List.of(violated(direction, Violation.INVALID_CLOSE_CODE),
                            closed(direction, code, "invalid", Category.INVALID, "x")),
                    counts(0, 0, 0, 1, 0, 0, 0)));
        }
    }

    @ParameterizedTest(name = "code {0}")
    @ValueSource(ints = {1000, 1003, 1007, 1011, 1014, 3000, 3001, 3999, 4000, 4999})
    void shouldAcceptCodesThatMayBeSentWithTheirLabels(int code) {
        String label = switch (code) {
            case 3001, 3999 -> "3xxx";
            case 4000, 4999 -> "4xxx";
            default -> Integer.toString(code);
        };
        for (Direction direction : Direction.values()) {
            // Given a Close frame with a code §7.4 allows on the wire
            Stream stream = Frames.forDirection(direction).close(code, "").build();

            // When it is fed split at every offset
            // Then no violation is reported and the label is the code or its range bucket
            assertEveryFeed(direction, stream, new Expected(
                    List.of(closed(direction, code, label, CATALOG.lookup(code).category(), "")),
                    counts(0, 0, 0, 1, 0, 0, 0)));
        }
    }

    @Test
    void shouldLabel3000AsItselfAnd4000And4999AsPrivateBucket() {
        // Given Close frames 3000, 4000 and 4999 from the upstream
        Stream stream = Frames.unmasked().close(3000, "").close(4000, "").close(4999, "").build();

        // When they are fed split at every offset
        // Then 3000 (catalogued) keeps its own label, 4000 and 4999 share 4xxx/private
        assertEveryFeed(U2C, stream, new Expected(
                List.of(closed(U2C, 3000, "3000", Category.REGISTERED, ""),
                        closed(U2C, 4000, "4xxx", Category.PRIVATE, ""),
                        closed(U2C, 4999, "4xxx", Category.PRIVATE, "")),
                counts(0, 0, 0, 3, 0, 0, 0)));
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldReportCloseReasonThatIsNotUtf8(Direction direction) {
        // Given a Close frame 1000 whose reason is "\xC3(" (a 2-byte lead followed by ASCII)
        Stream stream = Frames.forDirection(direction)
                .frame(true, CLOSE, new byte[] {0x03, (byte) 0xE8, (byte) 0xC3, '('})
                .build();

        // When it is fed split at every offset
        // Then INVALID_CLOSE_REASON is reported and the bad byte is replaced by U+FFFD
        assertEveryFeed(direction, stream, new Expected(
                List.of(violated(direction, Violation.INVALID_CLOSE_REASON),
                        closed(direction, 1000, "1000", Category.NORMAL, "\uFFFD(")),
                counts(0, 0, 0, 1, 0, 0, 0)));
    }

    @Test
    void shouldReportCloseReasonHoldingAnEncodedSurrogateAsNotUtf8() {
        // Given a Close frame 1000 whose reason is ED A0 80, the 3-byte form of the surrogate
        // U+D800, which RFC 3629 §3 forbids in UTF-8
        Stream stream = Frames.masked().frame(true, CLOSE, new byte[] {0x03, (byte) 0xE8, (byte) 0xED, (byte) 0xA0, (byte) 0x80}).build();

        // When it is fed split at every offset
        // Then INVALID_CLOSE_REASON is reported and the sequence reads as one U+FFFD
        assertEveryFeed(C2U, stream, new Expected(
                List.of(violated(C2U, Violation.INVALID_CLOSE_REASON),
                        closed(C2U, 1000, "1000", Category.NORMAL, "\uFFFD")),
                counts(0, 0, 0, 1, 0, 0, 0)));
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldReportCloseFrameOver125BytesAndStillReadItsCode(Direction direction) {
        // Given a Close frame 1008 with a 124-byte ASCII reason: payload 126 bytes, so the
        // 16-bit length form (§5.5: control frames MUST have a payload of 125 bytes or less)
        String reason = "r".repeat(124);
        Stream stream = Frames.forDirection(direction).close(1008, reason).frame(true, PING, new byte[0]).build();

        // When it is fed split at every offset
        // Then CONTROL_FRAME_TOO_BIG is reported, the code is still read, the kept reason is
        // the first 123 bytes (125 payload bytes kept), and the following ping is found
        assertEveryFeed(direction, stream, new Expected(
                List.of(violated(direction, Violation.CONTROL_FRAME_TOO_BIG),
                        closed(direction, 1008, "1008", Category.POLICY_VIOLATION, "r".repeat(123))),
                counts(0, 0, 0, 1, 1, 0, 0)));
    }

    @Test
    void shouldNotCallATruncatedButValidUtf8ReasonOfAnOversizedCloseFrameInvalid() {
        // Given a Close frame 1000 whose 124-byte reason is 62 × "é" (valid UTF-8); only 125
        // payload bytes are kept, which cuts the 62nd "é" in half
        String reason = "é".repeat(62);
        Stream stream = Frames.unmasked().close(1000, reason).build();

        // When it is fed whole
        Result result = feed(U2C, stream.bytes(), new int[0], 0, Entry.WHOLE_BUFFER, ReservedBits.NONE);

        // Then the only violation is the oversized control frame: the reason on the wire is
        // valid UTF-8 (§5.5.1), so INVALID_CLOSE_REASON would be a false report
        List<Object> violations = result.events().stream().filter(e -> e instanceof Violated).toList();
        assertEquals(List.of(violated(U2C, Violation.CONTROL_FRAME_TOO_BIG)), violations);
    }

    @Test
    void shouldHandTheCatalogsWireClassificationToTheListener() {
        // Given Close frames 1006 (reserved, invalid on the wire) and 1001
        Stream stream = Frames.unmasked().close(1006, "").close(1001, "").build();
        List<CloseCode> seen = new ArrayList<>();
        FrameObserver observer = new FrameObserver(U2C, CATALOG, new FrameObserver.Listener() {
            @Override
            public void onCloseFrame(Direction direction, int code, CloseCode classification, String reason) {
                seen.add(classification);
            }

            @Override
            public void onViolation(Direction direction, Violation violation) {
            }
        });

        // When they are observed
        ByteBuf buf = Unpooled.copiedBuffer(stream.bytes());
        try {
            observer.observe(buf);
        } finally {
            buf.release();
        }

        // Then the classifications are exactly the catalog's classifyWire entries
        assertEquals(List.of(CATALOG.classifyWire(1006), CATALOG.classifyWire(1001)), seen);
        assertEquals("invalid", seen.get(0).label());
        assertEquals(Category.INVALID, seen.get(0).category());
    }

    // ---------------------------------------------------------------------------------------
    // Violations (§5.1–§5.5)
    // ---------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldReportReservedOpcodes(Direction direction) {
        // Given a frame with reserved non-control opcode 0x3 and one with reserved control
        // opcode 0xB, then a text frame
        Stream stream = Frames.forDirection(direction)
                .frame(true, 0x3, utf8("three"))
                .frame(true, 0xB, utf8("eleven"))
                .frame(true, TEXT, utf8("ok"))
                .build();

        // When it is fed split at every offset
        // Then each reserved opcode is reported and counted as reserved
        assertEveryFeed(direction, stream, new Expected(
                List.of(violated(direction, Violation.RESERVED_OPCODE), violated(direction, Violation.RESERVED_OPCODE)),
                counts(0, 1, 0, 0, 0, 0, 2)));
    }

    private static final int RSV1 = 0x40;
    private static final int RSV2 = 0x20;
    private static final int RSV3 = 0x10;

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldReportEveryReservedBitWhenNoExtensionWasNegotiated(Direction direction) {
        // Given frames with RSV1, RSV2 and RSV3 set (text, binary, ping), a fragmented message
        // with RSV1 on its continuation, a Close with RSV1, and a clean text frame
        Stream stream = Frames.forDirection(direction)
                .frame(true, RSV1 | TEXT, utf8("a"))
                .frame(true, RSV2 | BINARY, pattern(200))
                .frame(true, RSV3 | PING, utf8("p"))
                .frame(false, TEXT, utf8("b"))
                .frame(true, RSV1 | CONTINUATION, utf8("c"))
                .frame(true, TEXT, utf8("ok"))
                .frame(true, RSV1 | CLOSE, new byte[] {0x03, (byte) 0xE8})
                .build();

        // When it is fed split at every offset, with no extension negotiated
        // Then each of the five frames with an RSV bit is reported once, the Close still read
        Violated rsv = violated(direction, Violation.RESERVED_BITS);
        assertEveryFeed(direction, stream, new Expected(
                List.of(rsv, rsv, rsv, rsv, rsv, closed(direction, 1000, "1000", Category.NORMAL, "")),
                counts(1, 3, 1, 1, 1, 0, 0)), ReservedBits.forExtensions(null));
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldAllowRsv1OnlyOnAMessagesFirstFrameUnderPermessageDeflate(Direction direction) {
        // Given permessage-deflate (RFC 7692 §6.1): RSV1 on a message's first frame is its
        // "compressed" bit; on a continuation or control frame, and RSV2/RSV3 anywhere, it is not allowed
        Stream stream = Frames.forDirection(direction)
                .frame(true, RSV1 | TEXT, utf8("z"))
                .frame(false, RSV1 | BINARY, pattern(300))
                .frame(true, CONTINUATION, utf8("c"))
                .frame(false, RSV1 | TEXT, utf8("d"))
                .frame(true, RSV1 | CONTINUATION, utf8("e"))
                .frame(true, RSV1 | PING, utf8("p"))
                .frame(true, RSV2 | TEXT, utf8("f"))
                .frame(true, TEXT, utf8("plain"))
                .build();

        // When it is fed split at every offset
        // Then the RSV1 continuation, the RSV1 ping and the RSV2 text are reported, nothing else
        Violated rsv = violated(direction, Violation.RESERVED_BITS);
        assertEveryFeed(direction, stream, new Expected(List.of(rsv, rsv, rsv), counts(2, 4, 1, 0, 1, 0, 0)),
                ReservedBits.forExtensions("permessage-deflate; client_max_window_bits=15, permessage-deflate"));
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldFlagNoReservedBitUnderAnUnknownExtension(Direction direction) {
        // Given an extension closewatch does not know (it may define any RSV bit on any frame)
        Stream stream = Frames.forDirection(direction)
                .frame(true, RSV1 | RSV2 | RSV3 | TEXT, utf8("a"))
                .frame(false, RSV2 | BINARY, pattern(130))
                .frame(true, RSV3 | CONTINUATION, utf8("c"))
                .frame(true, RSV1 | PING, utf8("p"))
                .build();

        // When it is fed split at every offset
        // Then no violation is reported
        assertEveryFeed(direction, stream, new Expected(List.of(), counts(1, 1, 1, 0, 1, 0, 0)),
                ReservedBits.forExtensions("permessage-deflate, x-custom-frame-bits; level=\"a,b\""));
    }

    @Test
    void shouldReadTheNegotiatedExtensionsOfThe101() {
        assertEquals(ReservedBits.NONE, ReservedBits.forExtensions(null));
        assertEquals(ReservedBits.NONE, ReservedBits.forExtensions(" , "));
        assertEquals(ReservedBits.PERMESSAGE_DEFLATE, ReservedBits.forExtensions("Permessage-Deflate ;server_no_context_takeover"));
        assertEquals(ReservedBits.ANY, ReservedBits.forExtensions("x-webkit-deflate-frame"));
        assertEquals(ReservedBits.ANY, ReservedBits.forExtensions("permessage-deflate; x=\"a, b\", foo"));
        assertEquals(ReservedBits.PERMESSAGE_DEFLATE, ReservedBits.forExtensions("permessage-deflate; x=\"a, foo\""));
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldReportFragmentedPing(Direction direction) {
        // Given a ping with FIN clear (§5.5: control frames MUST NOT be fragmented)
        Stream stream = Frames.forDirection(direction).frame(false, PING, utf8("p")).build();

        // When it is fed split at every offset
        // Then FRAGMENTED_CONTROL_FRAME is reported
        assertEveryFeed(direction, stream, new Expected(
                List.of(violated(direction, Violation.FRAGMENTED_CONTROL_FRAME)),
                counts(0, 0, 0, 0, 1, 0, 0)));
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldReportPingOver125Bytes(Direction direction) {
        // Given a ping with a 126-byte payload (§5.5)
        Stream stream = Frames.forDirection(direction).frame(true, PING, pattern(126)).build();

        // When it is fed split at every offset
        // Then CONTROL_FRAME_TOO_BIG is reported
        assertEveryFeed(direction, stream, new Expected(
                List.of(violated(direction, Violation.CONTROL_FRAME_TOO_BIG)),
                counts(0, 0, 0, 0, 1, 0, 0)));
    }

    @Test
    void shouldReportUnmaskedClientFrame() {
        // Given a client frame without a masking key (§5.3: MUST be masked)
        Stream stream = Frames.unmasked().frame(true, TEXT, utf8("hi")).build();

        // When it is fed split at every offset in the client→upstream direction
        // Then UNMASKED_CLIENT_FRAME is reported
        assertEveryFeed(C2U, stream, new Expected(
                List.of(violated(C2U, Violation.UNMASKED_CLIENT_FRAME)),
                counts(0, 1, 0, 0, 0, 0, 0)));
    }

    @Test
    void shouldReportMaskedServerFrame() {
        // Given a server frame with a masking key (§5.1: MUST NOT mask)
        Stream stream = Frames.masked().frame(true, TEXT, utf8("hi")).build();

        // When it is fed split at every offset in the upstream→client direction
        // Then MASKED_SERVER_FRAME is reported
        assertEveryFeed(U2C, stream, new Expected(
                List.of(violated(U2C, Violation.MASKED_SERVER_FRAME)),
                counts(0, 1, 0, 0, 0, 0, 0)));
    }

    @Test
    void shouldReadAMaskedServerCloseFrameByUnmaskingIt() {
        // Given a server Close frame that is (wrongly) masked
        Stream stream = Frames.masked().close(1000, "bye").build();

        // When it is fed split at every offset
        // Then the violation is reported and the payload still reads correctly
        assertEveryFeed(U2C, stream, new Expected(
                List.of(violated(U2C, Violation.MASKED_SERVER_FRAME), closed(U2C, 1000, "1000", Category.NORMAL, "bye")),
                counts(0, 0, 0, 1, 0, 0, 0)));
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldReportContinuationWithoutStart(Direction direction) {
        // Given a continuation frame with no fragmented message in progress (§5.4)
        Stream stream = Frames.forDirection(direction).frame(true, CONTINUATION, utf8("orphan")).build();

        // When it is fed split at every offset
        // Then UNEXPECTED_CONTINUATION is reported
        assertEveryFeed(direction, stream, new Expected(
                List.of(violated(direction, Violation.UNEXPECTED_CONTINUATION)),
                counts(1, 0, 0, 0, 0, 0, 0)));
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldReportContinuationAfterAFinishedMessage(Direction direction) {
        // Given text fin=0, continuation fin=1, and one more continuation
        Stream stream = Frames.forDirection(direction)
                .frame(false, TEXT, utf8("a"))
                .frame(true, CONTINUATION, utf8("b"))
                .frame(true, CONTINUATION, utf8("c"))
                .build();

        // When it is fed split at every offset
        // Then only the third frame is reported
        assertEveryFeed(direction, stream, new Expected(
                List.of(violated(direction, Violation.UNEXPECTED_CONTINUATION)),
                counts(2, 1, 0, 0, 0, 0, 0)));
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldReportNewDataFrameWhileAFragmentedMessageIsInProgress(Direction direction) {
        // Given text fin=0 followed by a text frame instead of a continuation (§5.4)
        Stream stream = Frames.forDirection(direction)
                .frame(false, TEXT, utf8("first"))
                .frame(true, TEXT, utf8("second"))
                .build();

        // When it is fed split at every offset
        // Then EXPECTED_CONTINUATION is reported
        assertEveryFeed(direction, stream, new Expected(
                List.of(violated(direction, Violation.EXPECTED_CONTINUATION)),
                counts(0, 2, 0, 0, 0, 0, 0)));
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldReportDataFrameAfterClose(Direction direction) {
        // Given a Close frame followed by a ping (allowed) and a text frame (§5.5.1: no more
        // data frames after sending a Close frame)
        Stream stream = Frames.forDirection(direction)
                .close(1000, "")
                .frame(true, PING, new byte[0])
                .frame(true, TEXT, utf8("late"))
                .build();

        // When it is fed split at every offset
        // Then FRAME_AFTER_CLOSE is reported once, for the text frame
        assertEveryFeed(direction, stream, new Expected(
                List.of(closed(direction, 1000, "1000", Category.NORMAL, ""),
                        violated(direction, Violation.FRAME_AFTER_CLOSE)),
                counts(0, 1, 0, 1, 1, 0, 0)));
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldReport64BitLengthWithMostSignificantBitSet(Direction direction) {
        // Given a binary frame whose 64-bit length has its most significant bit set (§5.2),
        // followed by bytes that would read as a Close frame if the length were taken as small
        Stream stream = Frames.forDirection(direction)
                .rawHeader(true, BINARY, 127, 0x8000_0000_0000_0005L)
                .raw(new byte[] {1, 2, 3, 4, 5})
                .raw(JUNK)
                .build();

        // When it is fed split at every offset
        // Then INVALID_PAYLOAD_LENGTH is reported once and the rest is treated as payload
        assertEveryFeed(direction, stream, new Expected(
                List.of(violated(direction, Violation.INVALID_PAYLOAD_LENGTH)),
                counts(0, 0, 1, 0, 0, 0, 0)));
    }

    @ParameterizedTest(name = "{0}: 7-bit field {1} holding {2}")
    @CsvSource({
        "CLIENT_TO_UPSTREAM, 126, 0", "CLIENT_TO_UPSTREAM, 126, 125",
        "CLIENT_TO_UPSTREAM, 127, 0", "CLIENT_TO_UPSTREAM, 127, 125", "CLIENT_TO_UPSTREAM, 127, 65535",
        "UPSTREAM_TO_CLIENT, 126, 0", "UPSTREAM_TO_CLIENT, 126, 125",
        "UPSTREAM_TO_CLIENT, 127, 0", "UPSTREAM_TO_CLIENT, 127, 125", "UPSTREAM_TO_CLIENT, 127, 65535",
    })
    void shouldReportALengthNotInItsMinimalEncoding(Direction direction, int len7, int length) {
        // Given a binary frame whose length a shorter form could hold (§5.2: "the minimal number
        // of bytes MUST be used to encode the length"), its payload, then a text frame and a Close
        Stream stream = Frames.forDirection(direction)
                .rawHeader(true, BINARY, len7, length)
                .raw(pattern(length))
                .frame(true, TEXT, utf8("z"))
                .close(1000, "done")
                .build();

        // When it is fed split at every offset
        // Then NON_MINIMAL_LENGTH is reported once, and the length it holds is still the payload's:
        // the next frames are found where it says
        assertEveryFeed(direction, stream, new Expected(
                List.of(violated(direction, Violation.NON_MINIMAL_LENGTH),
                        closed(direction, 1000, "1000", Category.NORMAL, "done")),
                counts(0, 1, 1, 1, 0, 0, 0)));
    }

    @ParameterizedTest(name = "{0}: 7-bit field {1} holding {2}")
    @CsvSource({
        "CLIENT_TO_UPSTREAM, 126, 126", "CLIENT_TO_UPSTREAM, 127, 65536",
        "UPSTREAM_TO_CLIENT, 126, 126", "UPSTREAM_TO_CLIENT, 127, 65536",
    })
    void shouldAcceptTheSmallestLengthOfEachExtendedForm(Direction direction, int len7, int length) {
        // Given a binary frame at the smallest length its 16-bit or 64-bit form is for
        Stream stream = Frames.forDirection(direction)
                .rawHeader(true, BINARY, len7, length)
                .raw(pattern(length))
                .close(1000, "")
                .build();

        // When it is fed split at every offset
        // Then nothing is reported
        assertEveryFeed(direction, stream, new Expected(
                List.of(closed(direction, 1000, "1000", Category.NORMAL, "")),
                counts(0, 0, 1, 1, 0, 0, 0)));
    }

    @Test
    void shouldReportANonMinimalLengthOfAControlFrameAndStillReadItsCloseCode() {
        // Given a server Close frame whose 2-byte payload (1001) is announced in the 16-bit form
        Stream stream = Frames.unmasked()
                .rawHeader(true, CLOSE, 126, 2)
                .raw(new byte[] {0x03, (byte) 0xE9})
                .build();

        // When it is fed split at every offset
        // Then the length rule is reported first, then the Close frame as it was sent
        assertEveryFeed(U2C, stream, new Expected(
                List.of(violated(U2C, Violation.NON_MINIMAL_LENGTH),
                        closed(U2C, 1001, "1001", Category.GOING_AWAY, "")),
                counts(0, 0, 0, 1, 0, 0, 0)));
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void shouldTakeTheLargestValid64BitLengthAsPayload(Direction direction) {
        // Given a frame announcing 2^63 - 1 payload bytes (most significant bit clear: valid),
        // followed by bytes that would read as a Close frame if the length were mistaken
        Stream stream = Frames.forDirection(direction)
                .rawHeader(true, BINARY, 127, Long.MAX_VALUE)
                .raw(new byte[] {1, 2, 3, 4, 5})
                .raw(JUNK)
                .build();

        // When it is fed split at every offset
        // Then one binary frame is counted, nothing is reported and every byte is payload
        assertEveryFeed(direction, stream, new Expected(List.of(), counts(0, 0, 1, 0, 0, 0, 0)));
    }

    @Test
    void shouldReportEveryViolationOfOneFrameInOrder() {
        // Given an unmasked client ping with FIN clear and a 126-byte payload
        Stream stream = Frames.unmasked().frame(false, PING, pattern(126)).build();

        // When it is fed split at every offset
        // Then the masking rule is reported first, then the control frame rules
        assertEveryFeed(C2U, stream, new Expected(
                List.of(violated(C2U, Violation.UNMASKED_CLIENT_FRAME),
                        violated(C2U, Violation.FRAGMENTED_CONTROL_FRAME),
                        violated(C2U, Violation.CONTROL_FRAME_TOO_BIG)),
                counts(0, 0, 0, 0, 1, 0, 0)));
    }

    // ---------------------------------------------------------------------------------------
    // Counting and buffer handling
    // ---------------------------------------------------------------------------------------

    @Test
    void shouldStopBeforeAFrameOverTheLimitWhereverTheStreamIsSplit() {
        // Given a 100-byte frame, a 300-byte frame (4-byte header at offset 102) and a 10-byte
        // frame, read under a 200-byte limit
        Stream stream = Frames.unmasked()
                .frame(true, BINARY, pattern(100))
                .frame(true, BINARY, pattern(300))
                .frame(true, TEXT, pattern(10))
                .build();
        byte[] bytes = stream.bytes();
        int oversizedStart = stream.frameStarts()[1];
        int oversizedPayload = oversizedStart + 4;

        for (int cut = 0; cut <= bytes.length; cut++) {
            // When it is read in two buffers split at every offset, resuming after each stop
            Recorder recorder = new Recorder();
            FrameObserver observer = new FrameObserver(U2C, CATALOG, recorder);
            observer.maxFramePayload(200);
            List<String> stops = new ArrayList<>();
            long[] frames = new long[Opcode.COUNT];
            int[][] chunks = {{0, cut}, {cut, bytes.length}};
            for (int[] chunk : chunks) {
                ByteBuf buf = ByteBufAllocator.DEFAULT.directBuffer(JUNK.length + chunk[1] - chunk[0]);
                try {
                    buf.writeBytes(JUNK).writeBytes(bytes, chunk[0], chunk[1] - chunk[0]);
                    buf.readerIndex(JUNK.length);
                    int shift = chunk[0] - JUNK.length;
                    int from = buf.readerIndex();
                    while (from < buf.writerIndex()) {
                        int stop = observer.observe(buf, from, false);
                        if (stop == FrameObserver.NO_STOP) {
                            break;
                        }
                        assertTrue(observer.stoppedOnOversizedFrame(), "cut " + cut);
                        stops.add((shift + stop) + " split=" + observer.oversizedHeaderSplit()
                                + " resume=" + (shift + observer.resumeIndex()));
                        from = observer.resumeIndex();
                    }
                    assertEquals(JUNK.length, buf.readerIndex());
                } finally {
                    buf.release();
                }
                observer.drainCounts((d, counts, b) -> {
                    for (int k = 0; k < counts.length; k++) {
                        frames[k] += counts[k];
                    }
                });
            }

            // Then it stops once, before the 300-byte frame (at the split if the header
            // straddles it), resumes after that header, and reads everything
            boolean straddles = cut > oversizedStart && cut < oversizedPayload;
            String expected = (straddles ? cut : oversizedStart) + " split=" + straddles + " resume=" + oversizedPayload;
            assertEquals(List.of(expected), stops, "cut " + cut);
            assertEquals(List.of(), recorder.events, "cut " + cut);
            // the oversized frame is never relayed, so it is not counted (frames stand for frames delivered)
            assertArrayEquals(counts(0, 1, 1, 0, 0, 0, 0), frames, "cut " + cut);
            assertEquals(bytes.length, observer.totalBytes(), "cut " + cut);
        }
    }

    @Test
    void shouldDrainCountsSinceTheLastDrainOnly() {
        // Given an observer that has read two text frames
        byte[] first = Frames.masked().frame(true, TEXT, utf8("one")).frame(true, TEXT, utf8("two")).build().bytes();
        byte[] second = Frames.masked().frame(true, PING, new byte[0]).build().bytes();
        Recorder recorder = new Recorder();
        FrameObserver observer = new FrameObserver(C2U, CATALOG, recorder);
        observeCopy(observer, first);
        List<String> drains = new ArrayList<>();
        FrameObserver.CountSink sink = (d, frames, bytes) -> drains.add(d.label() + " " + Arrays.toString(frames) + " " + bytes);

        // When counts are drained, drained again with nothing new, and drained after a ping
        observer.drainCounts(sink);
        observer.drainCounts(sink);
        observeCopy(observer, second);
        observer.drainCounts(sink);

        // Then each drain holds only what came since the previous one, and an empty drain
        // does not call the sink
        assertEquals(List.of(
                "client_to_upstream [0, 2, 0, 0, 0, 0, 0] " + first.length,
                "client_to_upstream [0, 0, 0, 0, 1, 0, 0] " + second.length), drains);
        assertEquals(first.length + second.length, observer.totalBytes());
        assertEquals(C2U, observer.direction());
    }

    @Test
    void shouldCountDeliveredAndDiscardedBytesApart() {
        // Given a relay that delivers a text frame, drops 5 bytes for a gone peer, injects a
        // 10-byte Ping of its own, and then discards the rest (a Close and a text frame)
        byte[] text = Frames.masked().frame(true, TEXT, utf8("one")).build().bytes();
        byte[] rest = Frames.masked().close(1000, "").frame(true, TEXT, utf8("late")).build().bytes();
        Recorder recorder = new Recorder();
        FrameObserver observer = new FrameObserver(C2U, CATALOG, recorder);
        List<String> drains = new ArrayList<>();
        FrameObserver.CountSink sink = new FrameObserver.CountSink() {
            @Override
            public void onCounts(Direction d, long[] frames, long bytes) {
                drains.add("delivered " + Arrays.toString(frames) + " " + bytes);
            }

            @Override
            public void onDiscarded(Direction d, long bytes) {
                drains.add("discarded " + bytes);
            }
        };

        // When
        observeCopy(observer, text);
        observer.discarded(5);
        observer.injected(PING, 10);
        observer.discardRest(sink);
        observeCopy(observer, rest);
        observer.drainCounts(sink);
        observer.discardRest(sink);
        observer.drainCounts(sink);

        // Then the first drain holds the text frame and the Ping (delivered) and the 5 dropped
        // bytes; everything after discardRest is discarded bytes with no frames; the Close is
        // still reported
        assertEquals(List.of(
                "delivered [0, 1, 0, 0, 1, 0, 0] " + (text.length - 5 + 10),
                "discarded 5",
                "discarded " + rest.length), drains);
        assertEquals(text.length - 5 + 10, observer.totalBytes());
        assertEquals(5 + rest.length, observer.discardedBytes());
        assertEquals(List.of(closed(C2U, 1000, "1000", Category.NORMAL, ""),
                violated(C2U, Violation.FRAME_AFTER_CLOSE)), recorder.events);
    }

    @Test
    void shouldCountAFrameWhenItsHeaderIsCompleteNotWhenItsPayloadIs() {
        // Given a binary frame of 1000 bytes
        byte[] stream = Frames.unmasked().frame(true, BINARY, pattern(1000)).build().bytes();
        FrameObserver observer = new FrameObserver(U2C, CATALOG, new Recorder());
        long[][] seen = new long[1][];
        long[] bytesSeen = new long[1];
        FrameObserver.CountSink sink = (d, frames, bytes) -> {
            seen[0] = frames.clone();
            bytesSeen[0] = bytes;
        };

        // When only the 4-byte header and 10 payload bytes have been read
        observeCopy(observer, Arrays.copyOfRange(stream, 0, 14));
        observer.drainCounts(sink);

        // Then the frame is counted, with the 14 bytes read so far
        assertArrayEquals(counts(0, 0, 1, 0, 0, 0, 0), seen[0]);
        assertEquals(14, bytesSeen[0]);

        // When the rest arrives
        observeCopy(observer, Arrays.copyOfRange(stream, 14, stream.length));
        observer.drainCounts(sink);

        // Then it is not counted again
        assertArrayEquals(counts(0, 0, 0, 0, 0, 0, 0), seen[0]);
        assertEquals(stream.length - 14, bytesSeen[0]);
    }

    @Test
    void shouldReadACompositeBufferWhoseHeaderSpansComponents() {
        // Given a masked Close frame 1000 "bye" spread over three components of a composite
        // buffer, the split falling inside the masking key and inside the payload
        byte[] stream = Frames.masked().close(1000, "bye").build().bytes();
        CompositeByteBuf composite = ByteBufAllocator.DEFAULT.compositeBuffer();
        composite.addComponent(true, Unpooled.copiedBuffer(stream, 0, 4));
        composite.addComponent(true, ByteBufAllocator.DEFAULT.directBuffer().writeBytes(stream, 4, 5));
        composite.addComponent(true, Unpooled.copiedBuffer(stream, 9, stream.length - 9));
        Recorder recorder = new Recorder();
        FrameObserver observer = new FrameObserver(C2U, CATALOG, recorder);

        // When it is observed
        try {
            int readerIndex = composite.readerIndex();
            int writerIndex = composite.writerIndex();
            observer.observe(composite);

            // Then the Close frame reads and the buffer is untouched
            assertEquals(readerIndex, composite.readerIndex());
            assertEquals(writerIndex, composite.writerIndex());
            assertEquals(1, composite.refCnt());
        } finally {
            composite.release();
        }
        assertEquals(List.of(closed(C2U, 1000, "1000", Category.NORMAL, "bye")), recorder.events);
    }

    @Test
    void shouldNotChangeIndicesOrReferenceCountOfAnyBufferFed() {
        // Given a retained direct buffer (refCnt 2) holding a masked Close frame after junk
        byte[] stream = Frames.masked().close(1000, "x").build().bytes();
        ByteBuf buf = ByteBufAllocator.DEFAULT.directBuffer(64);
        buf.writeBytes(JUNK).writeBytes(stream).writeBytes(JUNK);
        buf.readerIndex(JUNK.length);
        buf.writerIndex(JUNK.length + stream.length);
        buf.retain();
        byte[] before = new byte[buf.capacity()];
        buf.getBytes(0, before);
        FrameObserver observer = new FrameObserver(C2U, CATALOG, new Recorder());

        // When it is observed
        try {
            observer.observe(buf);

            // Then indices, reference count and every byte (masked payload included) are unchanged
            assertEquals(JUNK.length, buf.readerIndex());
            assertEquals(JUNK.length + stream.length, buf.writerIndex());
            assertEquals(2, buf.refCnt());
            byte[] after = new byte[buf.capacity()];
            buf.getBytes(0, after);
            assertArrayEquals(before, after);
        } finally {
            buf.release(2);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Feeding machinery
    // ---------------------------------------------------------------------------------------

    /** What a stream must yield: listener events in order, frames per opcode, and bytes. */
    record Expected(List<Object> events, long[] frameCounts) {
    }

    /** What one feed yielded. */
    record Result(List<Object> events, long[] frameCounts, long drainedBytes, long totalBytes) {
    }

    record Closed(Direction direction, int code, String label, Category category, String reason) {
    }

    record Violated(Direction direction, Violation violation) {
    }

    static Closed closed(Direction direction, int code, String label, Category category, String reason) {
        return new Closed(direction, code, label, category, reason);
    }

    static Violated violated(Direction direction, Violation violation) {
        return new Violated(direction, violation);
    }

    /** Frame counts in {@link Opcode} order: continuation, text, binary, close, ping, pong, reserved. */
    static long[] counts(long... perOpcode) {
        assertEquals(Opcode.COUNT, perOpcode.length);
        return perOpcode;
    }

    /** Records listener calls as {@link Closed} and {@link Violated} values. */
    static final class Recorder implements FrameObserver.Listener {
        final List<Object> events = new ArrayList<>();

        @Override
        public void onCloseFrame(Direction direction, int code, CloseCode classification, String reason) {
            events.add(closed(direction, code, classification.label(), classification.category(), reason));
        }

        @Override
        public void onViolation(Direction direction, Violation violation) {
            events.add(violated(direction, violation));
        }
    }

    private static void assertEveryFeed(Direction direction, Stream stream, Expected expected) {
        assertEveryFeed(direction, stream, expected, ReservedBits.NONE);
    }

    /** As {@link #assertEveryFeed(Direction, Stream, Expected)}, with {@code rsv} allowed by negotiated extensions. */
    private static void assertEveryFeed(Direction direction, Stream stream, Expected expected, ReservedBits rsv) {
        byte[] bytes = stream.bytes();
        int n = bytes.length;
        List<int[]> feeds = new ArrayList<>();
        feeds.add(new int[0]);
        int[] offsets = n <= EXHAUSTIVE_SPLIT_LIMIT ? IntStream.rangeClosed(0, n).toArray() : interestingOffsets(stream);
        for (int k : offsets) {
            feeds.add(new int[] {k});
        }
        // a byte at a time (for big streams: a byte at a time around headers, big chunks between)
        feeds.add(Arrays.stream(offsets).filter(k -> k > 0 && k < n).toArray());
        for (int f = 0; f < feeds.size() * Entry.values().length; f++) {
            int[] cuts = feeds.get(f % feeds.size());
            Entry entry = Entry.values()[f / feeds.size()];
            Result result = feed(direction, bytes, cuts, f, entry, rsv);
            String feedName = "feed " + f + " (" + entry + ") cut at "
                    + (cuts.length > 20 ? cuts.length + " offsets" : Arrays.toString(cuts));
            assertEquals(expected.events(), result.events(), feedName);
            assertArrayEquals(expected.frameCounts(), result.frameCounts(), feedName);
            assertEquals(n, result.drainedBytes(), feedName);
            assertEquals(n, result.totalBytes(), feedName);
        }
    }

    /**
     * Split points for a big stream: every offset from 3 before to 16 after each frame start
     * (headers are at most 14 bytes), a few payload offsets, and the last bytes.
     */
    private static int[] interestingOffsets(Stream stream) {
        int n = stream.bytes().length;
        TreeSet<Integer> offsets = new TreeSet<>();
        int[] starts = stream.frameStarts();
        for (int i = 0; i < starts.length; i++) {
            int start = starts[i];
            int next = i + 1 < starts.length ? starts[i + 1] : n;
            for (int k = start - 3; k <= start + 16; k++) {
                offsets.add(k);
            }
            offsets.add(start + (next - start) / 2);
            offsets.add(next - 1);
        }
        for (int k = n - 4; k <= n; k++) {
            offsets.add(k);
        }
        return offsets.stream().mapToInt(Integer::intValue).filter(k -> k >= 0 && k <= n).toArray();
    }

    /** How a feed hands each buffer to the observer. */
    enum Entry {
        /** {@link FrameObserver#observe(ByteBuf)}, as the relay's usual path does. */
        WHOLE_BUFFER,
        /**
         * {@link FrameObserver#observe(ByteBuf, int, boolean)} without frame-end stops, under a
         * frame-size limit that no frame reaches, as the relay's limited path does.
         */
        FROM_INDEX_UNDER_A_LIMIT,
        /**
         * {@link FrameObserver#observe(ByteBuf, int, boolean)} asked to stop at the end of every
         * frame it is inside of, resuming from {@link FrameObserver#resumeIndex()}, as the relay
         * does while an injected frame waits.
         */
        STOPPING_AT_FRAME_ENDS
    }

    /** Hands {@code buf}'s readable bytes to {@code observer} through {@code entry}. */
    private static void observe(FrameObserver observer, ByteBuf buf, Entry entry) {
        int from = buf.readerIndex();
        int end = buf.writerIndex();
        switch (entry) {
            case WHOLE_BUFFER -> observer.observe(buf);
            case FROM_INDEX_UNDER_A_LIMIT -> {
                while (from < end) {
                    int stop = observer.observe(buf, from, false);
                    assertEquals(FrameObserver.NO_STOP, stop, "stop under an unreached limit");
                    from = end;
                }
            }
            case STOPPING_AT_FRAME_ENDS -> {
                while (from < end) {
                    int stop = observer.observe(buf, from, !observer.atFrameBoundary());
                    if (stop == FrameObserver.NO_STOP) {
                        break;
                    }
                    assertTrue(observer.atFrameBoundary(), "stopped inside a frame");
                    assertEquals(stop, observer.resumeIndex(), "resume index of a frame-end stop");
                    assertTrue(stop > from && stop <= end, "stop " + stop + " outside (" + from + ", " + end + "]");
                    from = stop;
                }
            }
        }
    }

    /**
     * Feeds {@code stream} to a fresh observer in chunks ending at {@code cuts} (sorted; a cut at
     * 0 or n feeds an empty buffer), each chunk in its own buffer with {@link #JUNK} before the
     * reader index and after the writer index, alternating heap and pooled direct buffers, handed
     * over through {@code entry}. Drains counts after every chunk, as the relay does once per
     * read batch.
     */
    private static Result feed(Direction direction, byte[] stream, int[] cuts, int seed, Entry entry,
                               ReservedBits rsv) {
        Recorder recorder = new Recorder();
        FrameObserver observer = new FrameObserver(direction, CATALOG, recorder);
        observer.reservedBits(rsv);
        if (entry == Entry.FROM_INDEX_UNDER_A_LIMIT) {
            observer.maxFramePayload(Long.MAX_VALUE);
        }
        long[] frames = new long[Opcode.COUNT];
        long[] bytes = new long[1];
        FrameObserver.CountSink sink = (d, counts, b) -> {
            assertEquals(direction, d);
            assertTrue(b > 0, "drained an empty batch");
            for (int i = 0; i < counts.length; i++) {
                frames[i] += counts[i];
            }
            bytes[0] += b;
        };
        int from = 0;
        for (int c = 0; c <= cuts.length; c++) {
            int to = c < cuts.length ? cuts[c] : stream.length;
            ByteBuf buf = (seed + c) % 2 == 0
                    ? Unpooled.buffer(JUNK.length * 2 + to - from)
                    : ByteBufAllocator.DEFAULT.directBuffer(JUNK.length * 2 + to - from);
            try {
                buf.writeBytes(JUNK).writeBytes(stream, from, to - from).writeBytes(JUNK);
                buf.setIndex(JUNK.length, JUNK.length + to - from);
                observe(observer, buf, entry);
                assertEquals(JUNK.length, buf.readerIndex(), "readerIndex");
                assertEquals(JUNK.length + to - from, buf.writerIndex(), "writerIndex");
                assertEquals(1, buf.refCnt(), "refCnt");
            } finally {
                buf.release();
            }
            observer.drainCounts(sink);
            from = to;
        }
        return new Result(recorder.events, frames, bytes[0], observer.totalBytes());
    }

    private static void observeCopy(FrameObserver observer, byte[] bytes) {
        ByteBuf buf = Unpooled.copiedBuffer(bytes);
        try {
            observer.observe(buf);
            assertEquals(0, buf.readerIndex());
            assertEquals(bytes.length, buf.writerIndex());
            assertEquals(1, buf.refCnt());
        } finally {
            assertTrue(buf.release());
        }
    }

    private static int headerLength(Direction direction, int payloadLength) {
        int size = payloadLength <= 125 ? 2 : payloadLength <= 0xFFFF ? 4 : 10;
        return direction == C2U ? size + 4 : size;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    static byte[] utf8(String s) {
        return s.getBytes(UTF_8);
    }

    /** {@code length} bytes of a recognisable non-constant pattern. */
    static byte[] pattern(int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return b;
    }

    /** Encoded bytes and the offset of each frame start. */
    record Stream(byte[] bytes, int[] frameStarts) {
    }

    /**
     * A hand-written RFC 6455 frame encoder, independent of Netty's: §5.2 base framing
     * (FIN, opcode, MASK bit, 7/16/64-bit payload length, masking key) and §5.3 masking
     * (octet i XOR masking-key octet i MOD 4). Masking keys rotate through fixed values so
     * consecutive frames use different keys.
     */
    static final class Frames {
        private static final int[] MASKING_KEYS = {0x37FA213D, 0x8F0E55C1, 0xFF00FF01, 0x12345678};

        private final boolean mask;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final List<Integer> starts = new ArrayList<>();
        private int keyIndex;

        private Frames(boolean mask) {
            this.mask = mask;
        }

        /** Frames as a client sends them: masked. */
        static Frames masked() {
            return new Frames(true);
        }

        /** Frames as a server sends them: not masked. */
        static Frames unmasked() {
            return new Frames(false);
        }

        /** Frames as {@code direction}'s sender must send them (§5.1). */
        static Frames forDirection(Direction direction) {
            return new Frames(direction == Direction.CLIENT_TO_UPSTREAM);
        }

        Frames frame(boolean fin, int opcode, byte[] payload) {
            int len7 = payload.length <= 125 ? payload.length : payload.length <= 0xFFFF ? 126 : 127;
            rawHeader(fin, opcode, len7, payload.length);
            if (!mask) {
                out.writeBytes(payload);
                return this;
            }
            int key = MASKING_KEYS[(keyIndex - 1) % MASKING_KEYS.length];
            byte[] masked = new byte[payload.length];
            for (int i = 0; i < payload.length; i++) {
                masked[i] = (byte) (payload[i] ^ (key >>> (24 - 8 * (i % 4))));
            }
            out.writeBytes(masked);
            return this;
        }

        /** A Close frame: 2-byte big-endian status code, then the UTF-8 reason (§5.5.1). */
        Frames close(int code, String reason) {
            byte[] r = utf8(reason);
            byte[] payload = new byte[2 + r.length];
            payload[0] = (byte) (code >>> 8);
            payload[1] = (byte) code;
            System.arraycopy(r, 0, payload, 2, r.length);
            return frame(true, CLOSE, payload);
        }

        /**
         * Writes a header only: {@code len7} is the 7-bit length field (126/127 select the
         * 16/64-bit extended length, holding {@code length}); a masking key follows if masking.
         */
        Frames rawHeader(boolean fin, int opcode, int len7, long length) {
            starts.add(out.size());
            out.write((fin ? 0x80 : 0) | opcode);
            out.write((mask ? 0x80 : 0) | len7);
            if (len7 == 126) {
                out.write((int) (length >>> 8) & 0xFF);
                out.write((int) length & 0xFF);
            } else if (len7 == 127) {
                for (int shift = 56; shift >= 0; shift -= 8) {
                    out.write((int) (length >>> shift) & 0xFF);
                }
            }
            if (mask) {
                int key = MASKING_KEYS[keyIndex++ % MASKING_KEYS.length];
                for (int shift = 24; shift >= 0; shift -= 8) {
                    out.write((key >>> shift) & 0xFF);
                }
            }
            return this;
        }

        /** Bytes written as they are. */
        Frames raw(byte[] bytes) {
            out.writeBytes(bytes);
            return this;
        }

        Stream build() {
            return new Stream(out.toByteArray(), starts.stream().mapToInt(Integer::intValue).toArray());
        }
    }
}
