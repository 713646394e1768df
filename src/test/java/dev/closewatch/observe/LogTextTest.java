package dev.closewatch.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.slf4j.event.KeyValuePair;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link LogText#escape(String)} and its inverse {@link LogText#unescape(String)}: a close reason is attacker-controlled, so nothing in it may
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

    @Test
    void shouldTakeBackTheEscapingOfEveryCharacter() {
        // Given every UTF-16 code unit inside text, and a forged log line
        for (int c = 0; c <= 0xFFFF; c++) {
            String text = "x" + (char) c + "\\y\"";

            // When it is escaped and taken back
            // Then the very text comes back
            assertEquals(text, LogText.unescape(LogText.escape(text)), "U+" + Integer.toHexString(c));
        }
        String forged = "bye\"\r\n12:00:00.000 ERROR closewatch.close - forged code=\"1000\"\\";
        assertEquals(forged, LogText.unescape(LogText.escape(forged)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain text", "C:\\dir\\file", "ends in \\", "\\u000a has a short escape",
        "\\u001B upper case", "\\u0041 is never escaped", "\\u00", "raw \" then \\n", "raw \t then \\n"})
    void shouldLeaveTextThatNoEscapingProducedAsItIs(String text) {
        // Given text that escape() cannot have returned (or with nothing escaped in it)
        // When it is taken back
        // Then the same instance comes back
        assertSame(text, LogText.unescape(text));
    }

    @Test
    void shouldEscapeAValueExactlyOnceInThePlainLineAndInTheJsonLine() throws Exception {
        // Given a line whose detail (a quote, a backslash, a newline and ESC) the code escaped for
        // the plain line, as every caller does, encoded by the shipped configurations
        String raw = "say \"hi\" \\ ok\n\u001bend";
        LoggingEvent line = new LoggingEvent(getClass().getName(),
                new LoggerContext().getLogger("dev.closewatch.proxy.FrontendHandler"), Level.INFO,
                "rejected request", null, null);
        line.addKeyValuePair(new KeyValuePair("detail", LogText.escape(raw)));

        // When it is written as a plain line and as a JSON line
        String plain = encode("config/logback.xml", line);
        String json = encode("config/logback-json.xml", line);

        // Then each has it escaped once: by LogText in the plain line, by JSON in the JSON line
        assertTrue(plain.endsWith(" - rejected request detail=\"say \\\"hi\\\" \\\\ ok\\n\\u001bend\""
                + System.lineSeparator()), plain);
        assertTrue(json.contains(",\"closewatch.detail\":\"say \\\"hi\\\" \\\\ ok\\n\\u001Bend\""), json);
        assertEquals(raw, new ObjectMapper().readTree(json).get("closewatch.detail").asText());
    }

    @SuppressWarnings("unchecked")
    private static String encode(String configFile, ILoggingEvent line) throws Exception {
        LoggerContext context = new LoggerContext();
        try {
            JoranConfigurator configurator = new JoranConfigurator();
            configurator.setContext(context);
            configurator.doConfigure(new File(configFile));
            Encoder<ILoggingEvent> encoder = ((OutputStreamAppender<ILoggingEvent>) context
                    .getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender("STDOUT")).getEncoder();
            return new String(encoder.encode(line), StandardCharsets.UTF_8);
        } finally {
            context.stop();
        }
    }
}
