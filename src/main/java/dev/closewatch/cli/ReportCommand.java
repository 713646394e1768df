package dev.closewatch.cli;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.Durations;
import dev.closewatch.config.HostPort;
import dev.closewatch.report.AdminClient;
import dev.closewatch.report.FleetMerge;
import dev.closewatch.report.FleetReport;
import dev.closewatch.report.JsonReport;
import dev.closewatch.report.TextReport;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code closewatch report} — the fleet view of the diagnosis: reads each running instance's admin
 * API ({@code --admin HOST:PORT}, repeated) and prints, for the last window, the sessions and
 * closes by code with their meaning, the timeout signatures with culprits and remedies, reconnect
 * storms and reconnect behaviour by previous code, and the top offenders per category, merged
 * across instances ({@link FleetMerge}); {@code --json} prints the same as one document
 * (docs/report.schema.json).
 *
 * <p>Exit codes: {@value ExitCodes#OK} when every instance answered; {@value ExitCodes#REPORT_PARTIAL}
 * when some did not (each is named on stderr and in the report, which covers the others);
 * {@value ExitCodes#RUNTIME} when none did (nothing printed on stdout); {@value ExitCodes#USAGE}
 * for bad options.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Read running instances' admin APIs and explain, in plain language, why sessions ended "
                + "in the last window: closes by code, timeout signatures with culprits and remedies, reconnect "
                + "behaviour, top offenders; several instances are merged. Exit 0: all answered; 4: some did not "
                + "(named on stderr); 1: none did.")
final class ReportCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--admin", paramLabel = "HOST:PORT", required = true,
            description = "admin address of an instance to read; repeat for several (the report merges them); required, no default")
    List<String> admins = new ArrayList<>();

    @Mixin
    AdminTokenOptions token;

    @Option(names = "--json", description = "print one JSON document (docs/report.schema.json) instead of text (default: text)")
    boolean json;

    @Option(names = "--window", paramLabel = "DURATION", defaultValue = "10m",
            description = "the window of the closes by code, 1s-1h (default: ${DEFAULT-VALUE}); signatures use each "
                    + "instance's diagnosis.window, top offenders the last 10m, reconnects since start")
    String window;

    @Option(names = "--top", paramLabel = "N", defaultValue = "5",
            description = "entries per top-offender list, 1-100 (default: ${DEFAULT-VALUE})")
    int top;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "5",
            description = "connect plus answer time limit per request in seconds (default: ${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Duration windowDuration = window();
        if (top < 1 || top > 100) {
            throw new ParameterException(spec.commandLine(), "--top: " + top + " (expected: 1-100)");
        }
        if (timeoutSeconds < 1) {
            throw new ParameterException(spec.commandLine(), "--timeout: " + timeoutSeconds + " (expected: >= 1)");
        }
        List<HostPort> addresses = new ArrayList<>();
        for (String a : admins) {
            try {
                addresses.add(HostPort.parse(a));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--admin: " + e.getMessage());
            }
        }
        AdminClient client = new AdminClient(Duration.ofSeconds(timeoutSeconds), token());
        List<FleetMerge.Outcome> outcomes = new ArrayList<>();
        for (HostPort address : addresses) {
            try {
                outcomes.add(new FleetMerge.Outcome(address.toString(), client.read(address, windowDuration, top), null));
            } catch (AdminClient.AdminException e) {
                err.println("closewatch report: " + address + " did not answer: " + e.getMessage());
                outcomes.add(new FleetMerge.Outcome(address.toString(), null, e.getMessage()));
            }
        }
        FleetReport report = new FleetMerge(CloseCatalog.loadDefault()).merge(outcomes, windowDuration, top, Instant.now());
        if (report.answered() == 0) {
            err.println("closewatch report: none of the " + report.asked() + " instances answered");
            return ExitCodes.RUNTIME;
        }
        out.print(json ? JsonReport.render(report) : TextReport.render(report));
        out.flush();
        return report.answered() == report.asked() ? ExitCodes.OK : ExitCodes.REPORT_PARTIAL;
    }

    private Duration window() {
        Duration d;
        try {
            d = Durations.parse(window);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--window: " + e.getMessage());
        }
        if (d.toMillis() % 1000 != 0 || d.toSeconds() < 1 || d.toSeconds() > 3600) {
            throw new ParameterException(spec.commandLine(), "--window: '" + window
                    + "' (expected: whole seconds from 1s to 1h, e.g. 10m)");
        }
        return d;
    }

    private String token() {
        try {
            return token.token();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }
}
