package dev.closewatch.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code closewatch} — the command line. */
@Command(name = "closewatch", mixinStandardHelpOptions = true, version = "closewatch 0.1.0",
        description = "Transparent WebSocket reverse proxy that explains why every session ended "
                + "(RFC 6455 close codes, Prometheus metrics, one diagnostic log line per session end).",
        subcommands = {RunCommand.class, DemoCommand.class, ExplainCommand.class, CodesCommand.class,
            CheckConfigCommand.class, EchoUpstreamCommand.class, CommandLine.HelpCommand.class})
public final class CloseWatchCommand {

    public static void main(String[] args) {
        System.exit(new CommandLine(new CloseWatchCommand()).execute(args));
    }
}
