package dev.closewatch.websocket;

import static java.util.Objects.requireNonNull;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.catalog.CloseCode;
import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Incremental reader of RFC 6455 §5.2 frame headers for one direction of a relayed WebSocket
 * connection.
 *
 * <p>{@link #observe(ByteBuf)} is handed every buffer as it passes, in order, split anywhere
 * (a header may straddle reads). It only reads ({@code getByte}, {@code getLong}, …): it never
 * moves the buffer's indices, never retains it and never changes a byte. Payloads are skipped by
 * length; only Close frame payloads (at most 125 bytes kept) are copied, and unmasked when the
 * frame is masked (§5.3). It counts frames by {@link Opcode} and bytes, and reports each Close
 * frame and each {@link Violation} to its {@link Listener}; nothing in the stream is rewritten.
 * Its counts stand for what was delivered: the relay reports what it read and dropped
 * ({@link #discarded}, {@link #discardRest}) and what it wrote of its own ({@link #injected}), and
 * a frame the observer stops on for being over the size limit is not counted. RSV bits are
 * checked against what the negotiated extensions allow ({@link #reservedBits}).
 *
 * <p>Not thread-safe: one instance per direction, used from that connection's event loop.
 * Allocation-free for every frame but Close frames.
 */
public final class FrameObserver {

    /** Receives what the observer reads; called on the observing thread. */
    public interface Listener {
        /**
         * A complete Close frame passed.
         *
         * @param direction      which way it travelled
         * @param code           the status code; {@link CloseCatalog#NO_STATUS_RECEIVED} for an
         *                       empty Close body, {@link CloseCatalog#MALFORMED} for a 1-byte body
         * @param classification the catalog's reading of {@code code} as seen on the wire
         * @param reason         the close reason (UTF-8 decoded, invalid bytes replaced), or "" if none
         */
        void onCloseFrame(Direction direction, int code, CloseCode classification, String reason);

        /** A frame broke an RFC 6455 rule; the bytes are relayed regardless. */
        void onViolation(Direction direction, Violation violation);
    }

    private static final int MAX_CONTROL_PAYLOAD = 125;
    private static final int MAX_HEADER = 14;

    /** {@link Opcode#ordinal()} by 4-bit wire opcode: no enum is touched per frame. */
    private static final int[] ORDINAL_BY_WIRE = new int[16];
    private static final int RESERVED = Opcode.RESERVED.ordinal();

    static {
        for (int wire = 0; wire < 16; wire++) {
            ORDINAL_BY_WIRE[wire] = Opcode.ofWire(wire).ordinal();
        }
        // The fast path counts data frames by their wire opcode directly.
        for (int wire = 0x0; wire <= 0x2; wire++) {
            if (ORDINAL_BY_WIRE[wire] != wire) {
                throw new AssertionError("Opcode ordinal " + ORDINAL_BY_WIRE[wire] + " for wire opcode " + wire);
            }
        }
    }

    private final Direction direction;
    private final boolean expectMasked;
    /** The MASK bit (0x80 of a header's second byte) this direction's frames must carry. */
    private final int maskBit;
    private final CloseCatalog catalog;
    private final Listener listener;

    /** Header bytes of a header split across reads. */
    private final byte[] header = new byte[MAX_HEADER];
    private int headerLength;
    private int headerNeeded = 2;

    private long payloadRemaining;
    private int opcode;
    private boolean masked;
    private int maskingKey;
    private long payloadOffset;
    private byte[] closePayload;
    private int closePayloadLength;
    private boolean inFragmentedMessage;
    private boolean closeSent;

    /** The {@linkplain #maxFramePayload(long) payload limit}, or {@link Long#MAX_VALUE} for none. */
    private long frameLimit = Long.MAX_VALUE;
    private boolean oversized;
    private boolean oversizedStop;
    private boolean oversizedSplit;
    private int resumeIndex;

    /**
     * RSV bits (as in a header's first byte: 0x40 RSV1, 0x20 RSV2, 0x10 RSV3) a negotiated
     * extension may set on the first frame of a data message, and on every other frame.
     */
    private int rsvFirstFrame;
    private int rsvOtherFrames;
    /**
     * What the fast path masks a header's first byte with before its {@code > 0x2} test: the
     * opcode and the RSV bits no extension allows, for a message's first frame and for a
     * continuation frame.
     */
    private int fastMaskFirst = 0x7F;
    private int fastMaskContinuation = 0x7F;

    private final long[] frameCounts = new long[Opcode.COUNT];
    /** Bytes observed in total (delivered or not): the only byte count the hot path touches. */
    private long observedBytes;
    /** Observed bytes the relay reported it did not deliver (before {@link #discardRest}). */
    private long discardedBytes;
    /** Bytes of the relay's own frames written into this direction. */
    private long injectedBytes;
    private boolean discardingRest;
    /** {@link #observedBytes} when {@link #discardRest} was called. */
    private long observedAtDiscard;
    private long drainedDelivered;
    private long drainedDiscarded;

    /**
     * @param direction the direction observed; decides the masking rule checked (§5.1)
     * @param catalog   classifies Close frame status codes
     * @param listener  receives Close frames and violations
     */
    public FrameObserver(Direction direction, CloseCatalog catalog, Listener listener) {
        this.direction = requireNonNull(direction, "direction");
        this.expectMasked = direction == Direction.CLIENT_TO_UPSTREAM;
        this.maskBit = expectMasked ? 0x80 : 0;
        this.catalog = requireNonNull(catalog, "catalog");
        this.listener = requireNonNull(listener, "listener");
    }

    /** Returned by {@link #observe(ByteBuf, int, boolean)} when it read every byte it was given. */
    public static final int NO_STOP = -1;

    /**
     * Reads the readable bytes of {@code buf}, the next bytes of the stream, without changing
     * its indices or reference count.
     */
    public void observe(ByteBuf buf) {
        int from = buf.readerIndex();
        final int end = buf.writerIndex();
        if (from >= end) {
            return;
        }
        int i = from;
        long remaining = payloadRemaining;
        if (remaining > 0 && opcode != 0x8) {
            // The rest of a payload that is only skipped (a Close payload is copied, below).
            if (remaining >= end - i) {
                payloadRemaining = remaining - (end - i);
                oversizedStop = false;
                observedBytes += end - from;
                return;
            }
            payloadRemaining = 0;
            i += (int) remaining;
        }
        if (payloadRemaining == 0 && headerLength == 0) {
            // A read that starts with a frame header: whole plain data frames are read here
            // without the general loop.
            i = scanFrames(buf, i, end);
            if (i == end) {
                oversizedStop = false;
                observedBytes += end - from;
                return;
            }
        }
        observedBytes += i - from;
        while (i < end && observe(buf, i, false) != NO_STOP) {
            i = resumeIndex;
        }
    }

    /**
     * The fast path, at a frame boundary with no stop wanted: reads consecutive frames starting
     * at {@code i} for as long as each is a data frame (§5.6) that breaks no rule (RSV bits
     * included: only those a negotiated extension allows), is within the
     * {@linkplain #maxFramePayload(long) limit} and whose header lies whole in {@code buf}; one
     * {@code getLong} per frame reads its header (a 64-bit length takes a second), or a
     * {@code getShort} in a buffer's last 7 bytes. Counts the frames but not the bytes.
     *
     * @return {@code end} if every byte was read (the last frame's payload may go on in the next
     *         buffer), else the start of the first frame left to the general loop (nothing of it
     *         has been read)
     */
    private int scanFrames(ByteBuf buf, int i, final int end) {
        if (closeSent) {
            return i;
        }
        final long[] counts = frameCounts;
        final int maskBit = this.maskBit;
        final long limit = frameLimit;
        final int maskFirst = fastMaskFirst;
        final int maskContinuation = fastMaskContinuation;
        boolean fragmented = inFragmentedMessage;
        while (end - i >= 2) {
            // The header's first 8 bytes in one read; near the buffer's end its first 2 only.
            long word = end - i >= 8 ? buf.getLong(i) : (long) buf.getShort(i) << 48;
            int first = (int) (word >>> 48) & 0xFFFF;
            int opcode = (first >>> 8) & 0x0F;
            // Data frames only (control frames, Close above all, take the general path), with no
            // RSV bit an extension does not allow (a set one makes the masked byte > 0x2, like a
            // control opcode: the same single test), with the masking this direction requires
            // and in their place in a (fragmented) message.
            if (((first >>> 8) & (fragmented ? maskContinuation : maskFirst)) > 0x2
                    || (first & 0x80) != maskBit || (opcode == 0x0) != fragmented) {
                break;
            }
            int len7 = first & 0x7F;
            long length;
            int header;
            if (len7 < 126) {
                length = len7;
                header = 2;
            } else if (len7 == 126 && end - i >= 8) {
                // A length the 7-bit field could hold breaks §5.2's minimal-encoding rule: the
                // general path reports it.
                if ((length = (word >>> 32) & 0xFFFF) < 126) {
                    break;
                }
                header = 4;
            } else {
                // Under 65536 (a negative length included: MSB set) the general path reports it.
                if (len7 == 126 || end - i < 10 || (length = buf.getLong(i + 2)) < 65536) {
                    break;
                }
                header = 10;
            }
            header += maskBit >>> 5; // a 4-byte masking key (§5.3)
            if (length > limit || end - i < header) {
                break;
            }
            counts[opcode]++;
            fragmented = (first & 0x8000) == 0;
            int rest = end - i - header; // payload bytes in this buffer, if the frame has as many
            if (length > rest) {
                this.opcode = opcode;
                payloadRemaining = length - rest;
                i = end;
                break;
            }
            i += header + (int) length;
        }
        inFragmentedMessage = fragmented;
        return i;
    }

    /**
     * Reads {@code buf} from index {@code from} to its writer index, stopping early:
     * <ul>
     *   <li>at the end of the current frame, if {@code stopAtFrameEnd} (so the caller can inject a
     *       frame of its own at a frame boundary, RFC 6455 §5.4); if the observer is at a frame
     *       boundary already, it stops at {@code from} without reading;</li>
     *   <li>before a frame whose payload exceeds the {@linkplain #maxFramePayload(long) limit}.</li>
     * </ul>
     * Never changes the buffer's indices or reference count.
     *
     * @return {@link #NO_STOP} if every byte was read; else the index before which the bytes
     *         belong to complete frames (forwardable), with {@link #resumeIndex()} telling where
     *         reading continues and {@link #stoppedOnOversizedFrame()} why it stopped
     */
    public int observe(ByteBuf buf, int from, boolean stopAtFrameEnd) {
        oversizedStop = false;
        if (stopAtFrameEnd && atFrameBoundary()) {
            resumeIndex = from;
            return from;
        }
        int i = from;
        final int end = buf.writerIndex();
        while (i < end) {
            if (payloadRemaining > 0) {
                int n = (int) Math.min(payloadRemaining, end - i);
                if (opcode == 0x8) {
                    copyClosePayload(buf, i, n);
                }
                i += n;
                payloadRemaining -= n;
                if (payloadRemaining == 0) {
                    frameComplete();
                    if (stopAtFrameEnd) {
                        return stopAt(i, i, from);
                    }
                }
                continue;
            }
            if (headerLength == 0 && !stopAtFrameEnd) {
                i = scanFrames(buf, i, end);
                if (i == end) {
                    break;
                }
            }
            int frameStart = i - headerLength;
            if (headerLength == 0 && end - i >= 2) {
                int first = buf.getUnsignedShort(i);
                int needed = headerSize((byte) first);
                if (end - i >= needed) {
                    startFrame(buf, i, first);
                    i += needed;
                } else {
                    // The header goes on in the next read: keep what there is of it.
                    headerNeeded = needed;
                    while (i < end) {
                        header[headerLength++] = buf.getByte(i++);
                    }
                    continue;
                }
            } else {
                while (i < end && headerLength < headerNeeded) {
                    header[headerLength++] = buf.getByte(i++);
                    if (headerLength == 2) {
                        headerNeeded = headerSize(header[1]);
                    }
                }
                if (headerLength < headerNeeded) {
                    continue;
                }
                startFrame(header);
                headerLength = 0;
                headerNeeded = 2;
            }
            if (oversized) {
                oversized = false;
                oversizedStop = true;
                // Never relayed: the frame counts stand for frames delivered.
                frameCounts[ORDINAL_BY_WIRE[opcode]]--;
                oversizedSplit = frameStart < from;
                return stopAt(Math.max(frameStart, from), i, from);
            }
            if (payloadRemaining == 0 && stopAtFrameEnd) {
                return stopAt(i, i, from);
            }
        }
        observedBytes += end - from;
        return NO_STOP;
    }

    private int stopAt(int forwardable, int resume, int from) {
        observedBytes += resume - from;
        resumeIndex = resume;
        return forwardable;
    }

    /** Where reading continues after {@link #observe(ByteBuf, int, boolean)} stopped early. */
    public int resumeIndex() {
        return resumeIndex;
    }

    /**
     * Whether the last {@link #observe(ByteBuf, int, boolean)} stopped before a frame over the
     * limit; its header has been read (the returned index is where it starts, or the buffer's
     * start if the header began in an earlier buffer).
     */
    public boolean stoppedOnOversizedFrame() {
        return oversizedStop;
    }

    /**
     * Whether the oversized frame's header began in an earlier buffer (already relayed), so the
     * stream cannot be cut cleanly at its start.
     */
    public boolean oversizedHeaderSplit() {
        return oversizedSplit;
    }

    /** Whether the stream is between frames: no header or payload in progress. */
    public boolean atFrameBoundary() {
        return payloadRemaining == 0 && headerLength == 0;
    }

    /**
     * Sets the largest payload, in bytes, that a frame may have before
     * {@link #observe(ByteBuf, int, boolean)} stops on it; 0 (the default) for no limit.
     */
    public void maxFramePayload(long bytes) {
        this.frameLimit = bytes > 0 ? bytes : Long.MAX_VALUE;
    }

    /**
     * Sets which RSV bits (RFC 6455 §5.2) the negotiated extensions may set; any other set RSV bit
     * is a {@link Violation#RESERVED_BITS}. Call before the first byte is observed.
     *
     * @param bits from {@link ReservedBits#forExtensions(String)}
     */
    public void reservedBits(ReservedBits bits) {
        rsvFirstFrame = bits.firstDataFrame();
        rsvOtherFrames = bits.otherFrames();
        fastMaskFirst = 0x7F & ~rsvFirstFrame;
        fastMaskContinuation = 0x7F & ~rsvOtherFrames;
    }

    private static int headerSize(byte secondByte) {
        int len7 = secondByte & 0x7F;
        int size = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
        return (secondByte & 0x80) != 0 ? size + 4 : size;
    }

    /** Reads a complete frame header at {@code index}; {@code first} holds its first two bytes. */
    private void startFrame(ByteBuf src, int index, int first) {
        int len7 = first & 0x7F;
        int p = index + 2;
        long length;
        if (len7 < 126) {
            length = len7;
        } else if (len7 == 126) {
            length = src.getUnsignedShort(p);
            p += 2;
        } else {
            length = src.getLong(p);
            p += 8;
        }
        // Only a Close payload is ever unmasked; other frames' keys need not be read.
        int key = (first & 0x0F80) == 0x0880 ? src.getInt(p) : 0;
        startFrame(first, length, key);
    }

    /** Reads a complete frame header held in {@code header} (it straddled reads). */
    private void startFrame(byte[] header) {
        int first = (header[0] & 0xFF) << 8 | header[1] & 0xFF;
        int len7 = first & 0x7F;
        int p = 2;
        long length;
        if (len7 < 126) {
            length = len7;
        } else if (len7 == 126) {
            length = bigEndian(header, p, 2);
            p += 2;
        } else {
            length = bigEndian(header, p, 8);
            p += 8;
        }
        int key = (first & 0x0F80) == 0x0880 ? (int) bigEndian(header, p, 4) : 0;
        startFrame(first, length, key);
    }

    private static long bigEndian(byte[] bytes, int index, int n) {
        long value = 0;
        for (int k = 0; k < n; k++) {
            value = value << 8 | bytes[index + k] & 0xFF;
        }
        return value;
    }

    /**
     * Starts a frame whose header has been read: {@code first} holds its first two bytes,
     * {@code length} its payload length, {@code key} the masking key of a masked Close frame.
     */
    private void startFrame(int first, long length, int key) {
        boolean fin = (first & 0x8000) != 0;
        opcode = (first >>> 8) & 0x0F;
        masked = (first & 0x80) != 0;
        maskingKey = key;
        int len7 = first & 0x7F;
        if (length < 0) {
            listener.onViolation(direction, Violation.INVALID_PAYLOAD_LENGTH);
            length = Long.MAX_VALUE;
        } else if (len7 == 126 ? length < 126 : len7 == 127 && length < 65536) {
            // Reported, then read by the length it holds: the bytes the sender meant as payload.
            listener.onViolation(direction, Violation.NON_MINIMAL_LENGTH);
        }
        int kind = ORDINAL_BY_WIRE[opcode];
        frameCounts[kind]++;
        if (length > frameLimit) {
            oversized = true;
        }
        checkRules(first, kind, fin, length);
        payloadOffset = 0;
        payloadRemaining = length;
        if (opcode == 0x8) {
            closePayloadLength = 0;
            if (closePayload == null) {
                closePayload = new byte[MAX_CONTROL_PAYLOAD];
            }
        }
        if (length == 0) {
            frameComplete();
        }
    }

    private void checkRules(int first, int kind, boolean fin, long length) {
        int rsv = (first >>> 8) & 0x70;
        if (rsv != 0) {
            // RFC 7692 §6.1: permessage-deflate's RSV1 only on a data message's first frame.
            boolean firstDataFrame = (opcode == 0x1 || opcode == 0x2) && !inFragmentedMessage;
            if ((rsv & ~(firstDataFrame ? rsvFirstFrame : rsvOtherFrames)) != 0) {
                listener.onViolation(direction, Violation.RESERVED_BITS);
            }
        }
        if (masked != expectMasked) {
            listener.onViolation(direction, masked ? Violation.MASKED_SERVER_FRAME : Violation.UNMASKED_CLIENT_FRAME);
        }
        // Plain opcode tests rather than a switch on the enum: this runs once per frame.
        if (opcode == 0x1 || opcode == 0x2) {
            if (inFragmentedMessage) {
                listener.onViolation(direction, Violation.EXPECTED_CONTINUATION);
            }
            inFragmentedMessage = !fin;
            afterCloseCheck();
        } else if (opcode == 0x0) {
            if (!inFragmentedMessage) {
                listener.onViolation(direction, Violation.UNEXPECTED_CONTINUATION);
            }
            inFragmentedMessage = !fin;
            afterCloseCheck();
        } else if (kind == RESERVED) {
            listener.onViolation(direction, Violation.RESERVED_OPCODE);
        } else {
            if (!fin) {
                listener.onViolation(direction, Violation.FRAGMENTED_CONTROL_FRAME);
            }
            if (length > MAX_CONTROL_PAYLOAD) {
                listener.onViolation(direction, Violation.CONTROL_FRAME_TOO_BIG);
            }
        }
    }

    private void afterCloseCheck() {
        if (closeSent) {
            listener.onViolation(direction, Violation.FRAME_AFTER_CLOSE);
        }
    }

    private void copyClosePayload(ByteBuf buf, int index, int n) {
        int copy = Math.min(n, MAX_CONTROL_PAYLOAD - closePayloadLength);
        for (int k = 0; k < copy; k++) {
            byte b = buf.getByte(index + k);
            if (masked) {
                b ^= (byte) (maskingKey >>> (24 - 8 * (int) ((payloadOffset + k) & 3)));
            }
            closePayload[closePayloadLength++] = b;
        }
        payloadOffset += n;
    }

    private void frameComplete() {
        if (opcode != 0x8) {
            return;
        }
        closeSent = true;
        if (closePayloadLength == 0) {
            int code = CloseCatalog.NO_STATUS_RECEIVED;
            listener.onCloseFrame(direction, code, catalog.lookup(code), "");
        } else if (closePayloadLength == 1) {
            listener.onViolation(direction, Violation.INVALID_CLOSE_PAYLOAD_LENGTH);
            listener.onCloseFrame(direction, CloseCatalog.MALFORMED, catalog.classifyWire(CloseCatalog.MALFORMED), "");
        } else {
            int code = ((closePayload[0] & 0xFF) << 8) | (closePayload[1] & 0xFF);
            if (!catalog.isValidOnWire(code)) {
                listener.onViolation(direction, Violation.INVALID_CLOSE_CODE);
            }
            listener.onCloseFrame(direction, code, catalog.classifyWire(code), decodeReason());
        }
    }

    private String decodeReason() {
        int length = closePayloadLength - 2;
        if (length == 0) {
            return "";
        }
        if (payloadOffset > MAX_CONTROL_PAYLOAD) {
            // Already a CONTROL_FRAME_TOO_BIG; the cut at 125 bytes may split a character, so the
            // kept part says nothing about the sender's UTF-8.
            return new String(closePayload, 2, length, StandardCharsets.UTF_8);
        }
        CharsetDecoder strict = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return strict.decode(ByteBuffer.wrap(closePayload, 2, length)).toString();
        } catch (CharacterCodingException e) {
            listener.onViolation(direction, Violation.INVALID_CLOSE_REASON);
            return new String(closePayload, 2, length, StandardCharsets.UTF_8);
        }
    }

    /** The direction this observer reads. */
    public Direction direction() {
        return direction;
    }

    /**
     * Bytes delivered in this direction since the observer was created: bytes observed, minus
     * those the relay reported as {@linkplain #discarded(long) discarded} or read after
     * {@link #discardRest}, plus the relay's {@linkplain #injected(int, long) own frames}. Without
     * a relay (no discards, no injections) it is every byte observed.
     */
    public long totalBytes() {
        return (discardingRest ? observedAtDiscard : observedBytes) - discardedBytes + injectedBytes;
    }

    /** Bytes observed but not delivered: {@linkplain #discarded(long) reported} or read after {@link #discardRest}. */
    public long discardedBytes() {
        return discardedBytes + (discardingRest ? observedBytes - observedAtDiscard : 0);
    }

    /**
     * The relay dropped {@code bytes} it had shown this observer (the peer was gone, or an
     * oversized frame's header): they count as discarded, not delivered.
     */
    public void discarded(long bytes) {
        discardedBytes += bytes;
    }

    /**
     * The relay wrote a frame of its own ({@code wireOpcode}, {@code bytes} long in all) into this
     * direction, at a frame boundary: it counts as a delivered frame and delivered bytes.
     */
    public void injected(int wireOpcode, long bytes) {
        frameCounts[ORDINAL_BY_WIRE[wireOpcode & 0x0F]]++;
        injectedBytes += bytes;
    }

    /**
     * From now on nothing this observer reads is delivered (the relay stopped relaying this
     * direction after a Close of its own): hands the counts so far to {@code sink}, then counts
     * every later byte as discarded and no later frame at all. Frames are still read, so Close
     * frames and violations are still reported. Idempotent.
     */
    public void discardRest(CountSink sink) {
        if (discardingRest) {
            return;
        }
        drainCounts(sink);
        discardingRest = true;
        observedAtDiscard = observedBytes;
    }

    /**
     * Hands the frame and byte counts accumulated since the last drain to {@code sink} and
     * resets them; call once per read batch so meters are touched once per batch, not per frame.
     */
    public void drainCounts(CountSink sink) {
        long delivered = totalBytes();
        long discarded = discardedBytes();
        long newlyDelivered = delivered - drainedDelivered;
        long newlyDiscarded = discarded - drainedDiscarded;
        if (newlyDelivered == 0 && newlyDiscarded == 0) {
            return;
        }
        drainedDelivered = delivered;
        drainedDiscarded = discarded;
        if (discardingRest) {
            java.util.Arrays.fill(frameCounts, 0);
        }
        if (newlyDelivered != 0) {
            sink.onCounts(direction, frameCounts, newlyDelivered);
        }
        if (newlyDiscarded != 0) {
            sink.onDiscarded(direction, newlyDiscarded);
        }
        java.util.Arrays.fill(frameCounts, 0);
    }

    /** Receives frame and byte counts from {@link #drainCounts(CountSink)}. */
    @FunctionalInterface
    public interface CountSink {
        /**
         * Frames and bytes delivered to the receiving endpoint since the last drain, the relay's
         * own injected frames included.
         *
         * @param direction   the direction counted
         * @param frameCounts frames delivered since the last drain, indexed by {@link Opcode#ordinal()};
         *                    read it during the call only
         * @param bytes       bytes delivered since the last drain, &gt; 0
         */
        void onCounts(Direction direction, long[] frameCounts, long bytes);

        /**
         * Bytes read from the sender but never delivered (dropped after a Close of the relay's
         * own, an oversized frame, a peer already gone) since the last drain; by default ignored.
         *
         * @param bytes &gt; 0
         */
        default void onDiscarded(Direction direction, long bytes) {
        }
    }
}
