package dev.closewatch.observe;

/**
 * Makes attacker-controlled text (a close reason, a request path) safe for one log line:
 * backslash and double quote are escaped, control characters (C0, DEL, C1) and the Unicode line
 * and paragraph separators become {@code \n}, {@code \r}, {@code \t} or {@code \}{@code uXXXX}.
 * The result never contains a line break.
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

    private static boolean needsEscape(char c) {
        return c < 0x20 || c == '"' || c == '\\' || (c >= 0x7F && c <= 0x9F) || c == '\u2028' || c == '\u2029';
    }
}
