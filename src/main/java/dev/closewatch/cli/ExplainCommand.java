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
            return 2;
        }
        for (int c : other == null ? new int[] {code} : new int[] {code, other}) {
            if (c < 0 || c > 65535) {
                System.err.println("closewatch: code " + c + " (expected: 0-65535)");
                return 2;
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

    static void compare(PrintStream out, int a, CloseCode ea, int b, CloseCode eb) {
        out.println("WebSocket " + a + " " + ea.name() + " vs " + b + " " + eb.name());
        out.println();
        String same = ea.category() == eb.category()
                ? "Both are in category " + ea.category().label() + "."
                : a + " is in category " + ea.category().label() + "; " + b + " is in category "
                        + eb.category().label() + ".";
        out.println(same + " " + a + " indicates: " + ea.description() + " Meanwhile, " + b + " means: "
                + eb.description());
        out.println();
        print(out, a, ea);
        out.println();
        print(out, b, eb);
        out.println();
        out.println("Key differences");
        out.println("  1. " + a + ": " + ea.description());
        out.println("  2. " + b + ": " + eb.description());
        out.println("  3. You see " + a + " when: " + ea.when());
        out.println("  4. You see " + b + " when: " + eb.when());
        out.println("  5. Severity: " + a + " is " + ea.severity().label() + ", " + b + " is " + eb.severity().label() + ".");
        out.println();
        out.println("What to do");
        out.println("  For " + a + " (" + ea.name() + "): " + ea.remedy());
        out.println("  For " + b + " (" + eb.name() + "): " + eb.remedy());
    }
}
