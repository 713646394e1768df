package dev.closewatch.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link CloseCatalog} against RFC 6455 §7.4 (defined codes and ranges) and the IANA WebSocket
 * Close Code Number Registry, and the facts its resource file promises operators.
 */
class CloseCatalogTest {

    private static final CloseCatalog CATALOG = CloseCatalog.loadDefault();

    /** The codes the built-in catalog describes one by one. */
    private static final int[] CATALOGUED = concat(IntStream.rangeClosed(1000, 1015).toArray(), new int[] {3000, 3003, 3008});

    @Test
    void shouldDescribeEveryDefinedAndSeededCode() {
        // Given the built-in catalog
        // When each of 1000-1015, 3000, 3003 and 3008 is looked up
        // Then each has its own single-code entry with every text filled in
        for (int code : CATALOGUED) {
            CloseCode entry = CATALOG.lookup(code);
            String at = "code " + code;
            assertTrue(entry.isSingleCode(), at);
            assertEquals(code, entry.from(), at);
            assertEquals(code, entry.to(), at);
            assertEquals(Integer.toString(code), entry.label(), at);
            assertEquals(Integer.toString(code), entry.rangeText(), at);
            assertFalse(entry.name().isBlank(), at);
            assertFalse(entry.description().isBlank(), at);
            assertFalse(entry.when().isBlank(), at);
            assertFalse(entry.remedy().isBlank(), at);
            assertFalse(entry.reference().isBlank(), at);
            assertEquals(entry.description().strip(), entry.description(), at);
            assertEquals(entry.remedy().strip(), entry.remedy(), at);
        }
    }

    @Test
    void shouldListExactlyTheCataloguedCodesAsEntriesInOrder() {
        // Given the built-in catalog
        // When its entries are listed
        List<Integer> codes = new ArrayList<>();
        for (CloseCode entry : CATALOG.entries()) {
            codes.add(entry.from());
        }

        // Then they are the catalogued codes, ascending
        assertEquals(IntStream.of(CATALOGUED).boxed().toList(), codes);
        assertThrows(UnsupportedOperationException.class, () -> CATALOG.entries().clear());
    }

    @Test
    void shouldNameTheRfcCodes() {
        // Given the built-in catalog
        // When the §7.4.1 and IANA codes are looked up
        // Then their names and categories are the registry's
        assertEntry(1000, "Normal Closure", Category.NORMAL, Severity.NORMAL);
        assertEntry(1001, "Going Away", Category.GOING_AWAY, Severity.NORMAL);
        assertEntry(1002, "Protocol Error", Category.PROTOCOL_ERROR, Severity.CLIENT_ERROR);
        assertEntry(1003, "Unsupported Data", Category.UNSUPPORTED_DATA, Severity.CLIENT_ERROR);
        assertEntry(1004, "Reserved", Category.INVALID, Severity.CLIENT_ERROR);
        assertEntry(1005, "No Status Received", Category.NO_STATUS, Severity.CLIENT_ERROR);
        assertEntry(1006, "Abnormal Closure", Category.ABNORMAL, Severity.ABNORMAL);
        assertEntry(1007, "Invalid Payload Data", Category.INVALID_PAYLOAD, Severity.CLIENT_ERROR);
        assertEntry(1008, "Policy Violation", Category.POLICY_VIOLATION, Severity.CLIENT_ERROR);
        assertEntry(1009, "Message Too Big", Category.MESSAGE_TOO_BIG, Severity.CLIENT_ERROR);
        assertEntry(1010, "Mandatory Extension", Category.MANDATORY_EXTENSION, Severity.CLIENT_ERROR);
        assertEntry(1011, "Internal Error", Category.INTERNAL_ERROR, Severity.SERVER_ERROR);
        assertEntry(1012, "Service Restart", Category.SERVICE_RESTART, Severity.NORMAL);
        assertEntry(1013, "Try Again Later", Category.TRY_AGAIN_LATER, Severity.ABNORMAL);
        assertEntry(1014, "Bad Gateway", Category.BAD_GATEWAY, Severity.SERVER_ERROR);
        assertEntry(1015, "TLS Handshake", Category.TLS_HANDSHAKE, Severity.ABNORMAL);
        assertEntry(3000, "Unauthorized", Category.REGISTERED, Severity.CLIENT_ERROR);
        assertEntry(3003, "Forbidden", Category.REGISTERED, Severity.CLIENT_ERROR);
        assertEntry(3008, "Timeout", Category.REGISTERED, Severity.ABNORMAL);
    }

    @Test
    void shouldClassifyUncataloguedCodesByTheirRange() {
        // Given the built-in catalog
        // When every code 0-65535 without its own entry is looked up
        // Then 0-999, 1016-2999 and 5000+ are invalid; 3000-3999 are 3xxx/registered;
        // 4000-4999 are 4xxx/private
        TreeSet<Integer> catalogued = new TreeSet<>(IntStream.of(CATALOGUED).boxed().toList());
        for (int code = 0; code <= 65535; code++) {
            if (catalogued.contains(code)) {
                continue;
            }
            CloseCode entry = CATALOG.lookup(code);
            String at = "code " + code;
            assertFalse(entry.isSingleCode(), at);
            assertTrue(entry.from() <= code && code <= entry.to(), at);
            if (code <= 999 || (code >= 1016 && code <= 2999) || code >= 5000) {
                assertEquals("invalid", entry.label(), at);
                assertEquals(Category.INVALID, entry.category(), at);
                assertFalse(entry.onWire(), at);
            } else if (code <= 3999) {
                assertEquals("3xxx", entry.label(), at);
                assertEquals(Category.REGISTERED, entry.category(), at);
                assertTrue(entry.onWire(), at);
            } else {
                assertEquals("4xxx", entry.label(), at);
                assertEquals(Category.PRIVATE, entry.category(), at);
                assertTrue(entry.onWire(), at);
            }
        }
    }

    @Test
    void shouldListTheRangeRulesOfSection7_4_2() {
        // Given the built-in catalog
        // When its range rules are listed
        List<String> ranges = new ArrayList<>();
        for (CloseCode range : CATALOG.ranges()) {
            ranges.add(range.rangeText() + " " + range.label() + " " + range.category().label());
        }

        // Then they cover 0-65535 outside the catalogued codes, ascending
        assertEquals(List.of(
                "0-999 invalid invalid",
                "1016-2999 invalid invalid",
                "3000-3999 3xxx registered",
                "4000-4999 4xxx private",
                "5000-65535 invalid invalid"), ranges);
    }

    @ParameterizedTest(name = "code {0}")
    @ValueSource(ints = {1004, 1005, 1006, 1015})
    void shouldClassifyReservedCodesSeenOnTheWireAsInvalid(int code) {
        // Given a reserved code that §7.4.1 says MUST NOT be set in a Close frame
        // When it is classified as read from a Close frame
        CloseCode wire = CATALOG.classifyWire(code);

        // Then it is invalid, still naming the code it was, and says why
        assertEquals(Category.INVALID, wire.category());
        assertEquals("invalid", wire.label());
        assertEquals(code, wire.from());
        assertFalse(wire.onWire());
        assertEquals(CATALOG.lookup(code).name() + " (sent on the wire)", wire.name());
        assertTrue(wire.description().contains("MUST NOT"), wire.description());
        assertFalse(wire.remedy().isBlank());
        assertSame(wire, CATALOG.classifyWire(code));
    }

    @Test
    void shouldDescribe1006AsAbnormalWhenLookedUp() {
        // Given the built-in catalog
        // When 1005, 1006 and 1015 are looked up (as codes the proxy reports itself)
        // Then they keep their own categories
        assertEquals(Category.ABNORMAL, CATALOG.lookup(1006).category());
        assertEquals("1006", CATALOG.lookup(1006).label());
        assertEquals(Category.NO_STATUS, CATALOG.lookup(1005).category());
        assertEquals(Category.TLS_HANDSHAKE, CATALOG.lookup(1015).category());
    }

    @Test
    void shouldClassifyValidCodesOnTheWireAsTheirLookup() {
        // Given every code that may be sent
        // When it is classified from the wire
        // Then the entry is the same as its lookup
        for (int code = 0; code <= 65535; code++) {
            if (CATALOG.isValidOnWire(code)) {
                assertSame(CATALOG.lookup(code), CATALOG.classifyWire(code), "code " + code);
            } else {
                assertEquals(Category.INVALID, CATALOG.classifyWire(code).category(), "code " + code);
                assertEquals("invalid", CATALOG.classifyWire(code).label(), "code " + code);
            }
        }
    }

    @Test
    void shouldClassifyAMalformedCloseBodyAsInvalid() {
        // Given the pseudo code for a 1-byte Close payload
        // When it is classified from the wire
        CloseCode malformed = CATALOG.classifyWire(CloseCatalog.MALFORMED);

        // Then it is its own invalid entry citing §5.5.1
        assertEquals(Category.INVALID, malformed.category());
        assertEquals("invalid", malformed.label());
        assertEquals("Malformed Close Frame", malformed.name());
        assertEquals("RFC 6455 §5.5.1", malformed.reference());
        assertFalse(malformed.onWire());
        assertFalse(CATALOG.isValidOnWire(CloseCatalog.MALFORMED));
    }

    @Test
    void shouldAllowOnTheWireExactlyTheCodesOfSection7_4() {
        // Given every 16-bit status code
        // When each is checked
        // Then exactly 1000-1003, 1007-1014 and 3000-4999 may be sent (§7.4.1, §7.4.2, IANA)
        for (int code = 0; code <= 65535; code++) {
            boolean expected = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
                    || (code >= 3000 && code <= 4999);
            assertEquals(expected, CATALOG.isValidOnWire(code), "code " + code);
            assertEquals(expected, CATALOG.lookup(code).onWire(), "code " + code);
        }
        assertFalse(CATALOG.isValidOnWire(-2));
        assertFalse(CATALOG.isValidOnWire(65536));
    }

    @Test
    void shouldCarryTheSeedsFacts() {
        // Given the built-in catalog
        // When the remedies operators rely on are read
        // Then they hold the advice the catalog was seeded with
        assertTrue(CATALOG.lookup(1012).remedy().contains("1-5 seconds"), CATALOG.lookup(1012).remedy());
        assertTrue(CATALOG.lookup(1001).remedy().contains("exponential backoff"), CATALOG.lookup(1001).remedy());
        String abnormal = CATALOG.lookup(1006).remedy();
        assertTrue(abnormal.contains("ping/pong"), abnormal);
        assertTrue(abnormal.contains("load balancer idle limits"), abnormal);
        assertTrue(abnormal.contains("exponential backoff"), abnormal);
        assertTrue(CATALOG.lookup(1013).remedy().contains("exponential backoff and jitter"), CATALOG.lookup(1013).remedy());
        assertTrue(CATALOG.lookup(1015).remedy().contains("openssl s_client"), CATALOG.lookup(1015).remedy());
        assertTrue(CATALOG.lookup(1007).when().contains("UTF-8"), CATALOG.lookup(1007).when());
        assertEquals("RFC 6455 §7.4.1", CATALOG.lookup(1000).reference());
        assertEquals("IANA registry (WebSocket Close Code Number Registry)", CATALOG.lookup(1012).reference());
    }

    @Test
    void shouldGiveACustomPrivateCodeItsOwnLabelAndName() {
        // Given a custom entry for 4001
        CloseCode tokenExpired = custom(4001, 4001, "Token Expired");

        // When the catalog is extended with it
        CloseCatalog extended = CATALOG.withCustomCodes(List.of(tokenExpired));

        // Then 4001 has its own label and name, on lookup and from the wire; its neighbours
        // keep the range rule; the original catalog is unchanged
        assertSame(tokenExpired, extended.lookup(4001));
        assertSame(tokenExpired, extended.classifyWire(4001));
        assertEquals("4001", extended.lookup(4001).label());
        assertEquals("Token Expired", extended.lookup(4001).name());
        assertTrue(extended.isValidOnWire(4001));
        assertEquals("4xxx", extended.lookup(4000).label());
        assertEquals("4xxx", extended.lookup(4002).label());
        assertEquals("4xxx", CATALOG.lookup(4001).label());
        assertEquals("Private Use", CATALOG.lookup(4001).name());
        assertEquals(20, extended.entries().size());
        assertEquals(19, CATALOG.entries().size());
        assertSame(CATALOG.lookup(1000), extended.lookup(1000));
        assertEquals("invalid", extended.classifyWire(1006).label());
    }

    @Test
    void shouldReturnTheSameCatalogForNoCustomCodes() {
        // Given no custom codes
        // When the catalog is extended
        // Then it is the same instance
        assertSame(CATALOG, CATALOG.withCustomCodes(List.of()));
        assertNotSame(CATALOG, CATALOG.withCustomCodes(List.of(custom(4999, 4999, "Last"))));
    }

    @ParameterizedTest(name = "code {0}")
    @ValueSource(ints = {0, 1000, 3000, 3999, 5000, 65535})
    void shouldRejectACustomCodeOutsideThePrivateRange(int code) {
        // Given a custom entry outside 4000-4999
        CloseCode outside = custom(code, code, "Mine");

        // When the catalog is extended with it
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CATALOG.withCustomCodes(List.of(outside)));

        // Then the message names the code and the expected range
        assertEquals("custom code: " + code + " (expected: one code in 4000-4999)", e.getMessage());
    }

    @Test
    void shouldRejectACustomRange() {
        // Given a custom entry for 4000-4010
        CloseCode range = custom(4000, 4010, "Mine");

        // When the catalog is extended with it
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CATALOG.withCustomCodes(List.of(range)));

        // Then it is refused: custom entries are single codes
        assertEquals("custom code: 4000-4010 (expected: one code in 4000-4999)", e.getMessage());
    }

    @ParameterizedTest(name = "code {0}")
    @ValueSource(ints = {-1, 65536, Integer.MIN_VALUE, Integer.MAX_VALUE})
    void shouldRejectLookupOutsideTheSixteenBitRange(int code) {
        // Given a number that is no 16-bit status code
        // When it is looked up
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CATALOG.lookup(code));

        // Then the message says what was expected
        assertEquals("code: " + code + " (expected: 0-65535)", e.getMessage());
    }

    @Test
    void shouldRejectAnEntryWithAnImpossibleRange() {
        // Given ranges beyond 16 bits or reversed
        // When an entry is built
        // Then it is refused
        assertThrows(IllegalArgumentException.class, () -> custom(-1, 0, "x"));
        assertThrows(IllegalArgumentException.class, () -> custom(65535, 65536, "x"));
        assertThrows(IllegalArgumentException.class, () -> custom(4001, 4000, "x"));
    }

    @Test
    void shouldParseEveryCategoryAndSeverityLabel() {
        // Given every category and severity
        // When each label is parsed back
        // Then it round-trips, and an unknown label is refused
        for (Category c : Category.values()) {
            assertSame(c, Category.fromLabel(c.label()));
        }
        for (Severity s : Severity.values()) {
            assertSame(s, Severity.fromLabel(s.label()));
        }
        assertEquals("going_away", Category.GOING_AWAY.label());
        assertEquals("client_error", Severity.CLIENT_ERROR.label());
        assertThrows(IllegalArgumentException.class, () -> Category.fromLabel("GOING_AWAY"));
        assertThrows(IllegalArgumentException.class, () -> Severity.fromLabel("fatal"));
    }

    private static void assertEntry(int code, String name, Category category, Severity severity) {
        CloseCode entry = CATALOG.lookup(code);
        assertEquals(name, entry.name(), "code " + code);
        assertEquals(category, entry.category(), "code " + code);
        assertEquals(severity, entry.severity(), "code " + code);
    }

    private static CloseCode custom(int from, int to, String name) {
        return new CloseCode(from, to, Integer.toString(from), name, Category.PRIVATE, Severity.CLIENT_ERROR, true,
                "operator configuration", name + " description", "", name + " remedy");
    }

    private static int[] concat(int[] a, int[] b) {
        return IntStream.concat(IntStream.of(a), IntStream.of(b)).toArray();
    }
}
