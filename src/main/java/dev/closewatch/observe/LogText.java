package dev.closewatch.observe;

/**
 * Makes attacker-controlled text (a close reason, a request path) safe for one log line:
 * backslash and double quote are escaped, control characters (C0, DEL, C1) and the Unicode line
 * and paragraph separators become {@code \n}, {@code \r}, {@code \t} or {@code \}{@code uXXXX}.
 * The result never contains a line break.
 *
 * <p>This is the escaping of the plain log line, whose {@code key="value"} pairs Logback writes
 * as they are: code passes text through {@link #escape} before {@code addKeyValue}. A format
 * with its own escaping (JSON, {@link EcsJsonProvider}) first takes it back with
 * {@link #unescape}, so that every value is escaped exactly once in either format.
 */
public final class LogText {

    private LogText() {
    }

    /** Returns {@code text} escaped as above; the same instance when nothing needs escaping. */
    public static String escape(String text) {
        int i = 0;
        while (i < text.length() && !needsEscape(text.charAt(i))) {
            i++;
        }
        if (i == text.length()) {
            return text;
        }
        StringBuilder sb = new StringBuilder(text.length() + 16).append(text, 0, i);
        for (; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '"' -> sb.append("\\\"");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (needsEscape(c)) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.toString();
    }

    /**
     * The inverse of {@link #escape}: the text that {@code escaped} is the escaping of, if it is
     * exactly what {@link #escape} returns for some text (every backslash starts one of its
     * escapes, {@code \}{@code uXXXX} in lowercase hex only for a character without a shorter
     * escape, and no character that it escapes left as it is); otherwise {@code escaped} itself,
     * as are text with no backslash and text that was never escaped. So
     * {@code unescape(escape(t))} is {@code t} for every {@code t}.
     */
    public static String unescape(String escaped) {
        if (escaped.indexOf('\\') < 0) {
            return escaped;
        }
        StringBuilder sb = new StringBuilder(escaped.length());
        for (int i = 0; i < escaped.length(); i++) {
            char c = escaped.charAt(i);
            if (c != '\\') {
                if (needsEscape(c)) {
                    return escaped; // left raw: not escape's output
                }
                sb.append(c);
                continue;
            }
            if (++i == escaped.length()) {
                return escaped;
            }
            switch (escaped.charAt(i)) {
                case '\\' -> sb.append('\\');
                case '"' -> sb.append('"');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    int u = i + 5 <= escaped.length() ? lowerHex(escaped, i + 1) : -1;
                    if (u < 0 || !needsEscape((char) u) || u == '\n' || u == '\r' || u == '\t' || u == '"'
                            || u == '\\') {
                        return escaped;
                    }
                    sb.append((char) u);
                    i += 4;
                }
                default -> {
                    return escaped;
                }
            }
        }
        return sb.toString();
    }

    /** The 4 lowercase hex digits at {@code from} as a number, or -1 if they are not that. */
    private static int lowerHex(String s, int from) {
        int value = 0;
        for (int k = from; k < from + 4; k++) {
            char h = s.charAt(k);
            int digit = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : -1;
            if (digit < 0) {
                return -1;
            }
            value = value << 4 | digit;
        }
        return value;
    }

    private static boolean needsEscape(char c) {
        return c < 0x20 || c == '"' || c == '\\' || (c >= 0x7F && c <= 0x9F) || c == '\u2028' || c == '\u2029';
    }
}
