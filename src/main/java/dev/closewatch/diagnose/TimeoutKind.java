package dev.closewatch.diagnose;

/** What an intermediary's timeout measures: a bounded metric label. */
public enum TimeoutKind {
    /** No bytes either way for that long. */
    IDLE("idle"),
    /** The connection's whole life, busy or not. */
    LIFETIME("lifetime");

    private final String label;

    TimeoutKind(String label) {
        this.label = label;
    }

    /** The {@code kind} label value. */
    public String label() {
        return label;
    }

    static TimeoutKind parse(String text) {
        for (TimeoutKind k : values()) {
            if (k.label.equals(text)) {
                return k;
            }
        }
        throw new IllegalArgumentException("kind: '" + text + "' (expected: idle or lifetime)");
    }
}
