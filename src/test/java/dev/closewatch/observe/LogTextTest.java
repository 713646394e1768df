package dev.closewatch.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link LogText#escape(String)}: a close reason is attacker-controlled, so nothing in it may
 * break the log line or forge a key-value pair.
 */
class LogTextTest {

    @ParameterizedTest(name = "U+{0}")
    @CsvSource({
        "000A, \\n",
        "000D, \\r",
        "0009, \\t",
        "0022, \\\"",
        "005C, \\\\",
        "0000, \\u0000",
        "001B, \\u001b",
        "007F, \\u007f",
        "0085, \\u0085",
        "009F, \\u009f",
        "2028, \\u2028",
        "2029, \\u2029",
    })
    void shouldEscapeControlAndQuotingCharacters(String hex, String escaped) {
        // Given a reason holding the character between two letters
        char c = (char) Integer.parseInt(hex, 16);
        String reason = "a" + c + "b";

        // When it is escaped
        String result = LogText.escape(reason);

        // Then the character is replaced by its escape, the letters kept
        assertEquals("a" + escaped + "b", result);
    }

    @Test
    void shouldEscapeAForgedLogLine() {
        // Given a reason that tries to end the line and forge a second one
        String reason = "bye\"\r\n12:00:00.000 ERROR closewatch.close - forged code=\"1000\"\\";

        // When it is escaped
        String result = LogText.escape(reason);

        // Then it stays on one line with every quote and backslash escaped
        assertEquals("bye\\\"\\r\\n12:00:00.000 ERROR closewatch.close - forged code=\\\"1000\\\"\\\\", result);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "going away", "adiós — ✓ 日本語", "tab-free, quote-free: 'single' ok", "😀 emoji"})
    void shouldReturnPlainTextAsTheSameInstance(String reason) {
        // Given a reason with nothing to escape (printable ASCII and non-ASCII text)
        // When it is escaped
        String result = LogText.escape(reason);

        // Then the very same instance comes back
        assertSame(reason, result);
    }

    @Test
    void shouldNeverLeaveALineBreakInTheResult() {
        // Given every UTF-16 code unit, alone and inside text
        for (int c = 0; c <= 0xFFFF; c++) {
            String reason = "x" + (char) c + "y";

            // When it is escaped
            String result = LogText.escape(reason);

            // Then no line terminator (\n, \r, NEL, LS, PS) and no other C0/C1 control remains
            for (int i = 0; i < result.length(); i++) {
                char r = result.charAt(i);
                String at = "U+" + Integer.toHexString(c) + " -> " + result;
                assertFalse(r < 0x20 || (r >= 0x7F && r <= 0x9F), at);
                assertFalse(r == '\u2028' || r == '\u2029', at);
            }
        }
    }

    @Test
    void shouldEscapeOnlyFromTheFirstCharacterThatNeedsIt() {
        // Given a long plain prefix, a newline, and plain text again
        String reason = "a".repeat(100) + "\n" + "b".repeat(100);

        // When it is escaped
        // Then the prefix and suffix are copied exactly
        assertEquals("a".repeat(100) + "\\n" + "b".repeat(100), LogText.escape(reason));
    }
}
