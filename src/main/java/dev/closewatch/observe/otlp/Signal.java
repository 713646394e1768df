package dev.closewatch.observe.otlp;

/** The OpenTelemetry signals closewatch exports: the {@code signal} label of its export meters. */
enum Signal {
    METRICS("metrics"), LOGS("logs");

    private final String label;

    Signal(String label) {
        this.label = label;
    }

    String label() {
        return label;
    }
}
