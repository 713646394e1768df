package dev.closewatch.diagnose;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * One well-known intermediary's default timeout, from {@code intermediaries.yaml}.
 *
 * @param product      what sits in the path ({@code nginx}, {@code AWS Application Load Balancer})
 * @param setting      the setting that changes it
 * @param defaultValue its default
 * @param kind         idle or lifetime
 * @param source       the documentation the value comes from (a URL)
 * @param note         how the default applies to WebSockets, or ""
 */
public record Intermediary(String product, String setting, Duration defaultValue, TimeoutKind kind, String source,
                           String note) {

    public Intermediary {
        requireNonNull(product, "product");
        requireNonNull(setting, "setting");
        requireNonNull(defaultValue, "defaultValue");
        requireNonNull(kind, "kind");
        requireNonNull(source, "source");
        note = note == null ? "" : note;
    }
}
