package dev.closewatch.cli;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.catalog.CloseCode;
import dev.closewatch.config.ConfigException;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code closewatch explain CODE [CODE2]} — one catalog entry, or two side by side. */
@Command(name = "explain", mixinStandardHelpOptions = true,
        description = "Explain a close code (meaning, when you see it, how to fix); with two codes, compare them.")
final class ExplainCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "CODE", description = "status code 0-65535")
    int code;

    @Parameters(index = "1", paramLabel = "CODE2", arity = "0..1", description = "a second code to compare with")
    Integer other;

    @Mixin
    CatalogOptions catalogOptions;

    @Override
    public Integer call() {
        CloseCatalog catalog;
        try {
            catalog = catalogOptions.catalog();
        } catch (ConfigException e) {
            System.err.println(e.getMessage());
            return ExitCodes.CONFIG;
        }
        for (int c : other == null ? new int[] {code} : new int[] {code, other}) {
            if (c < 0 || c > 65535) {
                System.err.println("closewatch: code " + c + " (expected: 0-65535)");
                return ExitCodes.USAGE;
            }
        }
        PrintStream out = System.out;
        if (other == null) {
            print(out, code, catalog.lookup(code));
        } else {
            compare(out, code, catalog.lookup(code), other, catalog.lookup(other));
        }
        return 0;
    }

    static String title(int code, CloseCode e) {
        return "WebSocket " + code + " " + e.name();
    }

    static void print(PrintStream out, int code, CloseCode e) {
        out.println(title(code, e));
        out.println("  Range:            " + e.rangeText() + "; defined in " + e.reference());
        out.println("  Category:         " + e.category().label() + ", severity " + e.severity().label()
                + ", metric label code=\"" + e.label() + "\"");
        out.println("  May be sent:      " + (e.onWire()
                ? "yes, in a Close frame" : "no: never in a Close frame (reported by endpoints, or invalid)"));
        out.println("  Meaning:          " + e.description());
        if (!e.when().isEmpty()) {
            out.println("  When you see it:  " + e.when());
        }
        out.println("  How to fix:       " + e.remedy());
    }

    /**
     * Two codes in the seeds' shape: the title, each code's meaning, when you see it and how to
     * fix it (each said once), then only the differences that matter — category, severity,
     * whether it may be sent in a Close frame, where it is defined, its metric label — with what
     * they share in one line.
     */
    static void compare(PrintStream out, int a, CloseCode ea, int b, CloseCode eb) {
        out.println("WebSocket " + a + " " + ea.name() + " vs " + b + " " + eb.name());
        for (Object[] side : new Object[][] {{a, ea}, {b, eb}}) {
            CloseCode e = (CloseCode) side[1];
            out.println();
            out.println(side[0] + " " + e.name());
            out.println("  Meaning:          " + e.description());
            if (!e.when().isEmpty()) {
                out.println("  When you see it:  " + e.when());
            }
            out.println("  How to fix:       " + e.remedy());
        }
        out.println();
        out.println("Differences that matter");
        java.util.List<String> same = new java.util.ArrayList<>();
        difference(out, same, "Category", a, b, ea.category().label(), eb.category().label(), "category ");
        difference(out, same, "Severity", a, b, ea.severity().label(), eb.severity().label(), "severity ");
        difference(out, same, "In a Close frame", a, b, sendable(ea), sendable(eb), "");
        difference(out, same, "Defined in", a, b, ea.reference(), eb.reference(), "defined in ");
        difference(out, same, "Metric label", a, b, "code=\"" + ea.label() + "\"", "code=\"" + eb.label() + "\"", "");
        if (!same.isEmpty()) {
            out.println("  Both:             " + String.join("; ", same));
        }
    }

    private static String sendable(CloseCode e) {
        return e.onWire() ? "may be sent" : "never sent (reported by an endpoint, or invalid)";
    }

    private static void difference(PrintStream out, java.util.List<String> same, String what, int a, int b,
                                   String va, String vb, String sameAs) {
        if (va.equals(vb)) {
            same.add(sameAs + va);
        } else {
            out.println("  " + (what + ":" + " ".repeat(18)).substring(0, 18) + a + " " + va + "; " + b + " " + vb);
        }
    }
}
