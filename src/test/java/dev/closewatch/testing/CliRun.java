package dev.closewatch.testing;

import dev.closewatch.cli.CloseWatchCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/**
 * A {@code closewatch} command run in this JVM, with what it wrote to picocli's out and err
 * writers. For commands that print through {@code spec.commandLine().getOut()/getErr()}; a
 * command that writes to {@code System.out} itself needs a child process ({@link ChildJvm}).
 *
 * @param exit the exit code {@code execute} returned
 * @param out  everything written to the out writer
 * @param err  everything written to the err writer
 */
public record CliRun(int exit, String out, String err) {

    /** Runs {@code closewatch ARGS...} and waits for it to return. */
    public static CliRun run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new CloseWatchCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new CliRun(exit, out.toString(), err.toString());
    }
}
