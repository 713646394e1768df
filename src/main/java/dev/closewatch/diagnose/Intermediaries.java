package dev.closewatch.diagnose;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.closewatch.config.IntermediaryConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Well-known intermediaries' default timeouts (resource {@value #RESOURCE}), and which of them a
 * signature's value matches.
 */
public final class Intermediaries {

    /** The resource holding the defaults. */
    public static final String RESOURCE = "/dev/closewatch/diagnose/intermediaries.yaml";

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

    private final List<Intermediary> all;

    /** These entries, in this order. */
    public Intermediaries(List<Intermediary> all) {
        this.all = List.copyOf(all);
    }

    /**
     * Reads {@value #RESOURCE}.
     *
     * @throws IllegalStateException if the resource is missing or malformed (a build error)
     */
    public static Intermediaries loadDefault() {
        try (InputStream in = Intermediaries.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + ": missing from the classpath");
            }
            JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(in);
            List<Intermediary> list = new ArrayList<>();
            int i = 0;
            for (JsonNode n : root.path("intermediaries")) {
                String at = RESOURCE + ": intermediaries[" + i++ + "]";
                try {
                    list.add(new Intermediary(text(n, "product"), text(n, "setting"), duration(text(n, "default")),
                            TimeoutKind.parse(text(n, "kind")), text(n, "source"), n.path("note").asText("")));
                } catch (IllegalArgumentException | NullPointerException e) {
                    throw new IllegalStateException(at + ": " + e.getMessage(), e);
                }
            }
            if (list.isEmpty()) {
                throw new IllegalStateException(RESOURCE + ": no intermediaries");
            }
            return new Intermediaries(list);
        } catch (IOException e) {
            throw new UncheckedIOException(RESOURCE + ": unreadable", e);
        }
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.asText().isBlank()) {
            throw new IllegalArgumentException(field + ": missing");
        }
        return v.asText();
    }

    /** {@code 60s}, {@code 5m}, {@code 2h}, {@code 500ms}. */
    static Duration duration(String text) {
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("default: '" + text + "' (expected: NUMBER followed by ms, s, m or h)");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }

    /**
     * These entries after the operator's own {@code first} (a validated configuration's), which a
     * signature then names before any well-known default.
     */
    public Intermediaries withOperatorEntries(List<IntermediaryConfig> first) {
        if (first.isEmpty()) {
            return this;
        }
        List<Intermediary> list = new ArrayList<>();
        for (IntermediaryConfig c : first) {
            list.add(new Intermediary(c.product(), c.setting(), c.timeout(), TimeoutKind.parse(c.kind()),
                    c.source() == null || c.source().isBlank() ? "operator configuration" : c.source(),
                    c.note() == null ? "" : c.note()));
        }
        list.addAll(all);
        return new Intermediaries(list);
    }

    /** Every entry, in file order. */
    public List<Intermediary> all() {
        return all;
    }

    /**
     * The entries of {@code kind} whose default lies within {@code toleranceMillis} of
     * {@code valueMillis}, in file order.
     */
    public List<Intermediary> matching(TimeoutKind kind, long valueMillis, long toleranceMillis) {
        return all.stream()
                .filter(i -> i.kind() == kind && Math.abs(i.defaultValue().toMillis() - valueMillis) <= toleranceMillis)
                .toList();
    }
}
