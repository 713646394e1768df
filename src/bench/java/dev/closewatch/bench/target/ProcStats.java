package dev.closewatch.bench.target;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Readings of Linux processes from {@code /proc}: resident memory, CPU time and context switches. */
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

    /**
     * CPU time and context switches of a set of processes at one instant, summed over all their
     * threads: user and system time in seconds (from {@code /proc/PID/stat}), and voluntary
     * (the thread slept, e.g. in {@code epoll_wait}) and involuntary (the scheduler preempted it)
     * context switches (from {@code /proc/PID/task/TID/status}).
     */
    public record Usage(double userSeconds, double systemSeconds, long voluntarySwitches, long involuntarySwitches) {

        /** User + system CPU time, in seconds. */
        public double cpuSeconds() {
            return userSeconds + systemSeconds;
        }

        /** This reading minus an earlier one. */
        public Usage minus(Usage earlier) {
            return new Usage(userSeconds - earlier.userSeconds, systemSeconds - earlier.systemSeconds,
                    voluntarySwitches - earlier.voluntarySwitches, involuntarySwitches - earlier.involuntarySwitches);
        }
    }

    /** The {@link Usage} of {@code pids} now; a vanished process or thread counts nothing. */
    public static Usage usage(List<Long> pids) {
        double user = 0;
        double system = 0;
        long voluntary = 0;
        long involuntary = 0;
        for (long pid : pids) {
            Path proc = Path.of("/proc", Long.toString(pid));
            try {
                String stat = Files.readString(proc.resolve("stat"));
                // Fields after the command name, which is in parentheses and may hold spaces.
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                user += Long.parseLong(f[11]) / TICKS_PER_SECOND;
                system += Long.parseLong(f[12]) / TICKS_PER_SECOND;
            } catch (IOException | RuntimeException e) {
                continue; // gone
            }
            List<Path> tasks;
            try (Stream<Path> list = Files.list(proc.resolve("task"))) {
                tasks = list.toList();
            } catch (IOException | UncheckedIOException e) {
                continue; // gone
            }
            for (Path task : tasks) {
                try {
                    for (String line : Files.readAllLines(task.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:")) {
                            voluntary += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                            involuntary += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                } catch (IOException | NumberFormatException e) {
                    // This thread ended while being read: its switches are missed, the others still count.
                }
            }
        }
        return new Usage(user, system, voluntary, involuntary);
    }
}
