package dev.closewatch.config;

import java.util.List;

/** A configuration that cannot be used; {@link #errors()} says why, one line per problem. */
public final class ConfigException extends Exception {

    private final transient List<String> errors;

    public ConfigException(String source, List<String> errors) {
        super(source + ": " + errors.size() + " configuration error(s):\n  " + String.join("\n  ", errors));
        this.errors = List.copyOf(errors);
    }

    /** Each problem as {@code key.path: 'value' (expected: ...)}. */
    public List<String> errors() {
        return errors;
    }
}
