package dev.closewatch.bench.target;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Readings of Linux processes from {@code /proc}: resident memory and CPU time. */
public final class ProcStats {

    /** USER_HZ: the unit of {@code /proc/PID/stat} times; 100 on every Linux this runs on. */
    private static final double TICKS_PER_SECOND = 100.0;

    private ProcStats() {
    }

    /** Sum of {@code VmRSS} of {@code pids}, in bytes; a vanished process counts 0. */
    public static long residentBytes(List<Long> pids) {
        long total = 0;
        for (long pid : pids) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                    if (line.startsWith("VmRSS:")) {
                        total += Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                    }
                }
            } catch (IOException | NumberFormatException e) {
                // Gone; counts as nothing.
            }
        }
        return total;
    }

    /** Sum of user + system CPU time of {@code pids} (all their threads), in seconds. */
    public static double cpuSeconds(List<Long> pids) {
        double total = 0;
        for (long pid : pids) {
            try {
                String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
                // Fields after the command name, which is in parentheses and may hold spaces.
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                total += (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
            } catch (IOException | RuntimeException e) {
                // Gone; counts as nothing.
            }
        }
        return total;
    }
}
