package dev.closewatch.cli;

/**
 * The process exit codes of every {@code closewatch} command (docs/cli.md lists them): usage
 * errors keep picocli's 2, configuration errors take 78 ({@code EX_CONFIG} of BSD
 * {@code sysexits.h}, which systemd also names), {@code run}'s drain outcomes keep 0 and 3, and
 * {@code report} answers 4 when only some instances answered.
 */
final class ExitCodes {

    /** Done; for {@code run}: drained, every session closed by itself within {@code drain.timeout}. */
    static final int OK = 0;
    /** A runtime failure: a listen address cannot be bound, a peer cannot be reached, an unexpected error. */
    static final int RUNTIME = 1;
    /** A usage error: an unknown option, a missing or malformed argument (picocli's own code). */
    static final int USAGE = 2;
    /** {@code run}: drained, but some sessions had to be cut at {@code drain.timeout}. */
    static final int DRAIN_CUT = 3;
    /** {@code report}: some instances did not answer; the report printed covers the others. */
    static final int REPORT_PARTIAL = 4;
    /** The configuration file or the flags are not a valid configuration. */
    static final int CONFIG = 78;

    private ExitCodes() {
    }
}
