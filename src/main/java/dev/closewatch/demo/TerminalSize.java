package dev.closewatch.demo;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The size of the terminal the demo draws on, in characters: {@code COLUMNS}/{@code LINES} when
 * both are set (a user's override), else {@code stty size} on {@code /dev/tty} (POSIX; it reads
 * the kernel's window size, so a resized window is seen on the next call), else 80 × 24.
 *
 * @param columns characters per line
 * @param lines   lines on the screen
 */
public record TerminalSize(int columns, int lines) {

    /** What a terminal of unknown size is taken to be. */
    public static final TerminalSize DEFAULT = new TerminalSize(80, 24);

    /** The current size; never fails (falls back to {@link #DEFAULT}). */
    public static TerminalSize query() {
        TerminalSize fromEnv = fromEnvironment(System.getenv());
        if (fromEnv != null) {
            return fromEnv;
        }
        TerminalSize fromStty = stty();
        return fromStty != null ? fromStty : DEFAULT;
    }

    /** {@code COLUMNS} and {@code LINES} when both are positive numbers, else null. */
    static TerminalSize fromEnvironment(Map<String, String> env) {
        TerminalSize s = parse(env.get("LINES") + " " + env.get("COLUMNS"));
        return s;
    }

    /** {@code stty size}'s answer, {@code "LINES COLUMNS"}, or null if it is not two positive numbers. */
    static TerminalSize parse(String linesColumns) {
        String[] parts = linesColumns == null ? new String[0] : linesColumns.trim().split("\\s+");
        if (parts.length != 2) {
            return null;
        }
        try {
            int lines = Integer.parseInt(parts[0]);
            int columns = Integer.parseInt(parts[1]);
            return lines > 0 && columns > 0 ? new TerminalSize(columns, lines) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static TerminalSize stty() {
        File tty = new File("/dev/tty");
        if (!tty.canRead()) {
            return null;
        }
        try {
            Process p = new ProcessBuilder("stty", "size").redirectInput(tty)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            if (!p.waitFor(2, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroy();
                return null;
            }
            return parse(out);
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
