package dev.closewatch.cli;

import dev.closewatch.observe.BuildInfo;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;

/** {@code closewatch} — the command line. */
@Command(name = "closewatch", mixinStandardHelpOptions = true, versionProvider = CloseWatchCommand.Version.class,
        description = "Transparent WebSocket reverse proxy that explains why every session ended "
                + "(RFC 6455 close codes, Prometheus metrics, one diagnostic log line per session end).",
        subcommands = {RunCommand.class, DemoCommand.class, ExplainCommand.class, CodesCommand.class,
            CheckConfigCommand.class, EchoUpstreamCommand.class, HealthcheckCommand.class,
            CompletionCommand.class, ReportCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "Exit codes (docs/cli.md):%n",
        exitCodeList = {" 0:success; run: drained, every session closed within drain.timeout",
            " 1:runtime failure, e.g. a listen address cannot be bound",
            " 2:usage error: unknown option or bad argument",
            " 3:run: drained, but some sessions had to be cut at drain.timeout",
            " 4:report: some instances did not answer (named on stderr); the report covers the others",
            "78:configuration error: the file or the flags are not a valid configuration"})
public final class CloseWatchCommand {

    /** Netty's switch for its "low memory" buffer pooling (see {@link #main}). */
    static final String NETTY_LOW_MEMORY = "io.netty.allocator.lowMemory";

    /**
     * Runs the command line. Before Netty loads, turns Netty's low-memory buffer pooling off unless
     * the JVM was given {@code -Dio.netty.allocator.lowMemory} itself: Netty picks that mode for any
     * heap of 512 MiB or less, and in it pools no buffer over 16 KiB and keeps no per-thread caches,
     * while the relay reads up to 256 KiB at a time. Each such read would then be a new, zeroed
     * {@code ByteBuffer.allocateDirect} (measured: 7.5% of the event loops' CPU in the stream
     * benchmark, and slower 1 KiB echoes).
     */
    public static void main(String[] args) {
        if (System.getProperty(NETTY_LOW_MEMORY) == null) {
            System.setProperty(NETTY_LOW_MEMORY, "false");
        }
        System.exit(new CommandLine(new CloseWatchCommand()).execute(args));
    }

    /**
     * {@code closewatch --version}: the version and git revision the build wrote into the jar
     * ({@link BuildInfo}), and the Java runtime, e.g. {@code closewatch 0.1.0 (revision 44c08b3…)}
     * then {@code Java 17.0.13+11}.
     */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            BuildInfo info = BuildInfo.current();
            return new String[] {
                "closewatch " + info.version() + " (revision " + info.revision() + ")",
                "Java " + info.java() + " (" + System.getProperty("java.vm.name", BuildInfo.UNKNOWN) + ")"
            };
        }
    }
}
