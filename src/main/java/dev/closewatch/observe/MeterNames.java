package dev.closewatch.observe;

/**
 * Every closewatch meter name, in Micrometer's dotted form; the Prometheus registry renders
 * them as the contract in DESIGN.md (e.g. {@code closewatch.closes} →
 * {@code closewatch_closes_total}, {@code closewatch.session.duration} →
 * {@code closewatch_session_duration_seconds}). Grafana panels and alert rules read the
 * rendered names: change one only together with them.
 */
public final class MeterNames {

    public static final String SESSIONS_ACTIVE = "closewatch.sessions.active";
    public static final String SESSIONS_OPENED = "closewatch.sessions.opened";
    public static final String CLOSES = "closewatch.closes";
    public static final String SESSION_DURATION = "closewatch.session.duration";
    public static final String CLOSE_HANDSHAKE_DURATION = "closewatch.close.handshake.duration";
    public static final String CLOSE_HANDSHAKES_INCOMPLETE = "closewatch.close.handshakes.incomplete";
    public static final String UPGRADES = "closewatch.upgrades";
    public static final String UPSTREAM_CONNECT_FAILURES = "closewatch.upstream.connect.failures";
    /**
     * Addresses of a configured upstream usable now (resolved, not ejected after a failed connect):
     * {@code closewatch_upstream_healthy_addresses{route,upstream}}; 0 = the upstream has none.
     */
    public static final String UPSTREAM_HEALTHY_ADDRESSES = "closewatch.upstream.healthy.addresses";
    public static final String FRAMES = "closewatch.frames";
    public static final String BYTES = "closewatch.bytes";
    /** Bytes read after the 101 and never delivered: {@code closewatch_bytes_discarded_total{route,direction}}. */
    public static final String BYTES_DISCARDED = "closewatch.bytes.discarded";
    public static final String PROTOCOL_VIOLATIONS = "closewatch.protocol.violations";
    /** 1006 ends by who dropped TCP and how: {@code closewatch_abnormal_closures_total{route,initiator,cause}}. */
    public static final String ABNORMAL_CLOSURES = "closewatch.abnormal.closures";
    /** The catalog as an info metric: {@code closewatch_close_code_info{code,name,category,severity,remedy} 1}. */
    public static final String CLOSE_CODE_INFO = "closewatch.close.code.info";
    /** The running build: {@code closewatch_build_info{version,revision,java} 1} ({@link BuildInfoMetrics}). */
    public static final String BUILD_INFO = "closewatch.build.info";
    /**
     * A timeout signature while it is reported, valued with its matching ends in the window:
     * {@code closewatch_diagnosis_signature{route,leg,kind,seconds}} ({@code SignatureDetector}).
     */
    public static final String DIAGNOSIS_SIGNATURE = "closewatch.diagnosis.signature";

    public static final String TAG_ROUTE = "route";
    public static final String TAG_CODE = "code";
    public static final String TAG_CATEGORY = "category";
    public static final String TAG_INITIATOR = "initiator";
    public static final String TAG_STATUS = "status";
    public static final String TAG_CAUSE = "cause";
    public static final String TAG_DIRECTION = "direction";
    public static final String TAG_OPCODE = "opcode";
    public static final String TAG_VIOLATION = "violation";
    public static final String TAG_NAME = "name";
    public static final String TAG_SEVERITY = "severity";
    public static final String TAG_REMEDY = "remedy";
    public static final String TAG_VERSION = "version";
    public static final String TAG_REVISION = "revision";
    public static final String TAG_JAVA = "java";
    /** {@code client} or {@code upstream}: the side of closewatch. */
    public static final String TAG_LEG = "leg";
    /** {@code idle} or {@code lifetime}. */
    public static final String TAG_KIND = "kind";
    /** A signature's seconds, rounded to a fixed bucket list. */
    public static final String TAG_SECONDS = "seconds";
    /** The configured upstream as written ({@code ws://chat:9000}), never a resolved address: bounded by the config. */
    public static final String TAG_UPSTREAM = "upstream";

    private MeterNames() {
    }
}
