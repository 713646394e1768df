package dev.closewatch.observe;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Meters of the TLS files closewatch re-reads when they change on disk:
 * <ul>
 *   <li>{@code closewatch_tls_certificate_expiry_seconds{role,file}} — gauge, seconds from now
 *       until the earliest {@code notAfter} among the certificates of the file in use (negative once
 *       expired); {@code role} is {@code listener} (the serving certificate, {@code tls.cert} or
 *       {@code tls.pkcs12}) or {@code upstream_ca} ({@code upstream.tls.ca}); {@code file} is the
 *       path as configured, so the label set is bounded by the configuration;</li>
 *   <li>{@code closewatch_tls_reloads_total{role,result="success|failure"}} — counter of changed
 *       files re-read (a failure keeps the previous certificate in use); both results of a role
 *       appear at its first reload.</li>
 * </ul>
 */
public final class TlsMeters {

    /** {@code closewatch_tls_certificate_expiry_seconds{role,file}}. */
    public static final String CERTIFICATE_EXPIRY = "closewatch.tls.certificate.expiry.seconds";
    /** {@code closewatch_tls_reloads_total{role,result}}. */
    public static final String TLS_RELOADS = "closewatch.tls.reloads";
    public static final String TAG_ROLE = "role";
    public static final String TAG_FILE = "file";
    public static final String ROLE_LISTENER = "listener";
    public static final String ROLE_UPSTREAM_CA = "upstream_ca";

    private final MeterRegistry registry;
    private final Clock clock;
    /** notAfter per (role, file), read by the gauges. */
    private final Map<List<String>, Instant> expiries = new ConcurrentHashMap<>();
    private final Map<List<String>, Gauge> gauges = new ConcurrentHashMap<>();
    /** Reload counters by role, registered at the role's first reload. */
    private final Map<String, ResultCounters> reloads = new ConcurrentHashMap<>();

    public TlsMeters(MeterRegistry registry, Clock clock) {
        this.registry = requireNonNull(registry, "registry");
        this.clock = requireNonNull(clock, "clock");
    }

    /**
     * Sets the expiry of the certificate file in use for {@code role}, and removes the gauge of any
     * other file of that role (a reload may point the role at another file).
     *
     * @param role     {@link #ROLE_LISTENER} or {@link #ROLE_UPSTREAM_CA}
     * @param file     the path as configured
     * @param notAfter the earliest {@code notAfter} of the file's certificates
     */
    public void certificate(String role, String file, Instant notAfter) {
        List<String> key = List.of(role, file);
        expiries.put(key, notAfter);
        gauges.computeIfAbsent(key, k -> Gauge.builder(CERTIFICATE_EXPIRY, expiries,
                        m -> secondsUntil(m.get(k)))
                .description("Seconds until the earliest notAfter among the certificates of a TLS file in use")
                .tags(TAG_ROLE, role, TAG_FILE, file)
                .register(registry));
        forgetOthers(role, Set.of(file));
    }

    /** Removes every expiry gauge of {@code role} (the role has no file any more). */
    public void forget(String role) {
        forgetOthers(role, Set.of());
    }

    private void forgetOthers(String role, Set<String> keep) {
        for (List<String> key : List.copyOf(gauges.keySet())) {
            if (key.get(0).equals(role) && !keep.contains(key.get(1))) {
                Gauge g = gauges.remove(key);
                expiries.remove(key);
                if (g != null) {
                    registry.remove(g);
                }
            }
        }
    }

    /** Counts a changed TLS file re-read for {@code role}: {@code ok} when the new one is in use. */
    public void reloaded(String role, boolean ok) {
        reloads.computeIfAbsent(role, r -> new ResultCounters(registry, TLS_RELOADS,
                "Changed TLS files re-read, by role and result", Tags.of(TAG_ROLE, r))).count(ok);
    }

    private double secondsUntil(Instant notAfter) {
        return notAfter == null ? Double.NaN : (notAfter.toEpochMilli() - clock.millis()) / 1000.0;
    }
}
