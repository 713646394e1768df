package dev.closewatch.observe.otlp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/** The pieces of a close event's log record that the end-to-end test meets only in their IPv4 form. */
class CloseRecordsTest {

    @Test
    void shouldSplitEveryFormOfTheClientFieldIntoAddressAndPort() {
        // Given each form the close event's client field takes
        // When it is split, Then client.address is the host without brackets and client.port the port
        assertEquals(new CloseRecords.Address("203.0.113.7", 51234L), CloseRecords.Address.parse("203.0.113.7:51234"));
        assertEquals(new CloseRecords.Address("2001:db8::1", 443L), CloseRecords.Address.parse("[2001:db8::1]:443"));
        // a client named by X-Forwarded-For has no port, IPv6 without brackets
        assertEquals(new CloseRecords.Address("203.0.113.7", null), CloseRecords.Address.parse("203.0.113.7"));
        assertEquals(new CloseRecords.Address("2001:db8::1", null), CloseRecords.Address.parse("2001:db8::1"));
        assertEquals(new CloseRecords.Address("2001:db8::1", null), CloseRecords.Address.parse("[2001:db8::1]"));
        assertNull(CloseRecords.Address.parse(""));
        assertNull(CloseRecords.Address.parse(null));
    }

    @Test
    void shouldGiveDurationsInSecondsAndLevelsTheirOtelSeverity() {
        // Given durations and close-line levels, Then seconds (the conventions' unit) and the same-named severities
        assertEquals(1.5, CloseRecords.seconds(Duration.ofMillis(1500)));
        assertEquals(0.000_000_001, CloseRecords.seconds(Duration.ofNanos(1)));
        assertEquals(io.opentelemetry.api.logs.Severity.TRACE, CloseRecords.severity(Level.TRACE));
        assertEquals(io.opentelemetry.api.logs.Severity.DEBUG, CloseRecords.severity(Level.DEBUG));
        assertEquals(io.opentelemetry.api.logs.Severity.INFO, CloseRecords.severity(Level.INFO));
        assertEquals(io.opentelemetry.api.logs.Severity.WARN, CloseRecords.severity(Level.WARN));
        assertEquals(io.opentelemetry.api.logs.Severity.ERROR, CloseRecords.severity(Level.ERROR));
    }
}
