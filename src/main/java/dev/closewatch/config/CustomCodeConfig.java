package dev.closewatch.config;

import dev.closewatch.catalog.Category;
import dev.closewatch.catalog.CloseCode;
import dev.closewatch.catalog.Severity;
import java.util.List;

/**
 * An operator's own private close code (RFC 6455 §7.4.2: 4000–4999), e.g. 4001 token expired.
 * It gets its own {@code code} label value, name and remedy in metrics, logs and {@code explain}.
 *
 * @param code        4000–4999
 * @param name        short name
 * @param category    a category label (default {@code private})
 * @param severity    {@code normal}, {@code client_error}, {@code abnormal} or {@code server_error}
 *                    (default {@code client_error})
 * @param description what it means
 * @param when        when you see it (optional)
 * @param remedy      what to do
 */
public record CustomCodeConfig(Integer code, String name, String category, String severity,
                               String description, String when, String remedy) {

    void validate(String at, List<String> errors) {
        if (code == null || code < 4000 || code > 4999) {
            errors.add(at + ".code: " + code + " (expected: a private-use code 4000-4999)");
        }
        if (name == null || name.isBlank()) {
            errors.add(at + ".name: (expected: a short name, e.g. Token Expired)");
        }
        if (category != null) {
            try {
                Category.fromLabel(category);
            } catch (IllegalArgumentException e) {
                errors.add(at + "." + e.getMessage());
            }
        }
        if (severity != null) {
            try {
                Severity.fromLabel(severity);
            } catch (IllegalArgumentException e) {
                errors.add(at + "." + e.getMessage());
            }
        }
        if (remedy == null || remedy.isBlank()) {
            errors.add(at + ".remedy: (expected: what to do when this code shows up)");
        }
    }

    /** The catalog entry; call only on a configuration that validated. */
    public CloseCode toCloseCode() {
        return new CloseCode(code, code, Integer.toString(code), name,
                category == null ? Category.PRIVATE : Category.fromLabel(category),
                severity == null ? Severity.CLIENT_ERROR : Severity.fromLabel(severity),
                true, "operator configuration",
                description == null ? name : description, when == null ? "" : when, remedy);
    }
}
