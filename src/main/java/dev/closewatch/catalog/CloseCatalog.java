package dev.closewatch.catalog;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Maps a WebSocket close status code to its {@link CloseCode} entry: name, category, severity,
 * meaning, when you see it and remedy (RFC 6455 §7.4 and the IANA "WebSocket Close Code Number
 * Registry").
 *
 * <p>The data lives in the resource {@code dev/closewatch/catalog/close-codes.yaml}; operators
 * add their own private codes (4000–4999) with {@link #withCustomCodes(List)}. Lookups never
 * allocate and the instance is immutable, so it is safe to share between event loops.
 */
public final class CloseCatalog {

    /** Resource holding the built-in catalog. */
    public static final String RESOURCE = "/dev/closewatch/catalog/close-codes.yaml";

    /** Status code reported when a Close frame carried no status code (RFC 6455 §7.1.5). */
    public static final int NO_STATUS_RECEIVED = 1005;
    /** Status code reported when the connection closed with no Close frame (RFC 6455 §7.1.5). */
    public static final int ABNORMAL_CLOSURE = 1006;
    /** Status code reported when a TLS handshake failed (RFC 6455 §7.4.1). */
    public static final int TLS_HANDSHAKE = 1015;
    /**
     * Pseudo code for a Close frame whose payload is 1 byte long, which can carry no status
     * code (RFC 6455 §5.5.1); never a real status code.
     */
    public static final int MALFORMED = -1;

    private final CloseCode[] byCode = new CloseCode[65536];
    private final CloseCode[] invalidOnWire = new CloseCode[65536];
    private final CloseCode malformed;
    private final List<CloseCode> entries;
    private final List<CloseCode> ranges;

    private CloseCatalog(List<CloseCode> entries, List<CloseCode> ranges) {
        this.entries = List.copyOf(entries);
        this.ranges = List.copyOf(ranges);
        for (CloseCode range : ranges) {
            for (int c = range.from(); c <= range.to(); c++) {
                byCode[c] = range;
            }
        }
        for (CloseCode entry : entries) {
            byCode[entry.from()] = entry;
        }
        for (int c = 0; c < byCode.length; c++) {
            if (byCode[c] == null) {
                throw new IllegalStateException("close-code catalog leaves code " + c + " unclassified");
            }
        }
        for (CloseCode entry : entries) {
            if (!entry.onWire()) {
                invalidOnWire[entry.from()] = new CloseCode(entry.from(), entry.to(), "invalid",
                        entry.name() + " (sent on the wire)", Category.INVALID, Severity.CLIENT_ERROR, false,
                        entry.reference(),
                        "Status code " + entry.from() + " (" + entry.name() + ") is reserved: RFC 6455 §7.4.1 says"
                                + " an endpoint MUST NOT set it as the status code in a Close control frame. "
                                + entry.description(),
                        "The peer that sent this Close frame put a reserved status code on the wire; strict"
                                + " endpoints fail the connection with 1002 Protocol Error when they receive it.",
                        "Fix the sender's close() call to use a code that may be sent: 1000-1003, 1007-1014,"
                                + " or an application code in 3000-4999.");
            }
        }
        this.malformed = new CloseCode(0, 0, "invalid", "Malformed Close Frame", Category.INVALID,
                Severity.CLIENT_ERROR, false, "RFC 6455 §5.5.1",
                "A Close frame with a 1-byte payload: a Close body must be empty or start with a 2-byte status code.",
                "A broken WebSocket implementation or a hand-written framer sent a truncated Close body.",
                "Fix the sender's framing: send an empty Close frame or a 2-byte status code followed by an"
                        + " optional UTF-8 reason.");
    }

    /**
     * Loads the built-in catalog from {@link #RESOURCE}.
     *
     * @throws IllegalStateException if the resource is missing or malformed (a build error)
     */
    public static CloseCatalog loadDefault() {
        try (InputStream in = CloseCatalog.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing classpath resource " + RESOURCE);
            }
            ObjectMapper mapper = new ObjectMapper(new YAMLFactory())
                    .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
            Data data = mapper.readValue(in, Data.class);
            List<CloseCode> entries = new ArrayList<>();
            for (Entry e : data.codes()) {
                entries.add(e.toCloseCode(e.code(), e.code(), Integer.toString(e.code())));
            }
            List<CloseCode> ranges = new ArrayList<>();
            for (Entry r : data.ranges()) {
                ranges.add(r.toCloseCode(r.from(), r.to(), rangeLabel(r.from(), Category.fromLabel(r.category()))));
            }
            return new CloseCatalog(entries, ranges);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE + ": " + e.getMessage(), e);
        }
    }

    private static String rangeLabel(int from, Category category) {
        return category == Category.INVALID ? "invalid" : (from / 1000) + "xxx";
    }

    /**
     * Returns a catalog that also knows the given operator-defined codes; each replaces the
     * range rule for its code and gets its own metric label.
     *
     * @param custom entries for single codes in 4000–4999 (private use, RFC 6455 §7.4.2)
     * @throws IllegalArgumentException if an entry is a range, or outside 4000–4999
     */
    public CloseCatalog withCustomCodes(List<CloseCode> custom) {
        if (custom.isEmpty()) {
            return this;
        }
        Map<Integer, CloseCode> merged = new TreeMap<>();
        for (CloseCode e : entries) {
            merged.put(e.from(), e);
        }
        for (CloseCode e : custom) {
            if (!e.isSingleCode() || e.from() < 4000 || e.from() > 4999) {
                throw new IllegalArgumentException("custom code: " + e.rangeText() + " (expected: one code in 4000-4999)");
            }
            merged.put(e.from(), e);
        }
        return new CloseCatalog(new ArrayList<>(merged.values()), ranges);
    }

    /**
     * The entry for {@code code} as a description: a catalogued code's own entry, else its
     * range rule. Use {@link #classifyWire(int)} for a code read from a Close frame.
     *
     * @param code 0–65535
     * @throws IllegalArgumentException if {@code code} is outside 0–65535
     */
    public CloseCode lookup(int code) {
        if (code < 0 || code > 65535) {
            throw new IllegalArgumentException("code: " + code + " (expected: 0-65535)");
        }
        return byCode[code];
    }

    /**
     * Classifies a status code read from a Close frame's payload (RFC 6455 §5.5.1). Codes that
     * must not be sent (1004, 1005, 1006, 1015, 0–999, 1016–2999, ≥ 5000) get category
     * {@link Category#INVALID} and label {@code invalid}; {@link #MALFORMED} gets the entry for a
     * 1-byte Close payload.
     */
    public CloseCode classifyWire(int code) {
        if (code == MALFORMED) {
            return malformed;
        }
        CloseCode entry = lookup(code);
        if (entry.onWire()) {
            return entry;
        }
        CloseCode reserved = invalidOnWire[code];
        return reserved != null ? reserved : entry;
    }

    /** Whether an endpoint may send {@code code} in a Close frame (RFC 6455 §7.4). */
    public boolean isValidOnWire(int code) {
        return code >= 0 && code <= 65535 && byCode[code].onWire();
    }

    /** Single-code entries, ascending by code. */
    public List<CloseCode> entries() {
        return Collections.unmodifiableList(entries);
    }

    /** Range rules, ascending. */
    public List<CloseCode> ranges() {
        return ranges;
    }

    record Data(List<Entry> codes, List<Entry> ranges) {
    }

    record Entry(
            Integer code,
            Integer from,
            Integer to,
            String name,
            String category,
            String severity,
            @JsonProperty("on_wire") Boolean onWire,
            String reference,
            String description,
            String when,
            String remedy) {

        CloseCode toCloseCode(int first, int last, String label) {
            Category cat = Category.fromLabel(category);
            boolean wire = onWire != null ? onWire : cat != Category.INVALID;
            return new CloseCode(first, last, label, name, cat, Severity.fromLabel(severity), wire,
                    reference, description.strip(), when.strip(), remedy.strip());
        }
    }
}
