package dev.closewatch.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reading the terminal size from {@code stty size}'s answer and from COLUMNS/LINES. */
class TerminalSizeTest {

    @Test
    void shouldReadSttySizeAsLinesThenColumns() {
        assertEquals(new TerminalSize(80, 24), TerminalSize.parse("24 80\n"));
        assertEquals(new TerminalSize(132, 50), TerminalSize.parse(" 50  132 "));
    }

    @Test
    void shouldRefuseAnythingElse() {
        assertNull(TerminalSize.parse(null));
        assertNull(TerminalSize.parse(""));
        assertNull(TerminalSize.parse("0 0"));
        assertNull(TerminalSize.parse("24"));
        assertNull(TerminalSize.parse("stty: 'standard input': Inappropriate ioctl for device"));
    }

    @Test
    void shouldTakeColumnsAndLinesOnlyWhenBothAreSet() {
        assertEquals(new TerminalSize(100, 30), TerminalSize.fromEnvironment(Map.of("COLUMNS", "100", "LINES", "30")));
        assertNull(TerminalSize.fromEnvironment(Map.of("COLUMNS", "100")));
        assertNull(TerminalSize.fromEnvironment(Map.of()));
    }
}
