package dev.closewatch.proxy;

import static java.util.Objects.requireNonNull;

import dev.closewatch.config.TlsConfig;
import dev.closewatch.config.UpstreamTlsConfig;
import dev.closewatch.observe.TlsMeters;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the TLS contexts in step with their files: the listener's certificate and key
 * ({@code tls.cert}/{@code tls.key} or {@code tls.pkcs12}) and the upstream CA
 * ({@code upstream.tls.ca}). Every {@link #DEFAULT_INTERVAL} it reads the files and compares a
 * SHA-256 of their contents with the one in use, so any replacement is seen — written in place,
 * renamed over the old file, or the symlink swap of a Kubernetes Secret volume. A changed file
 * is built into a new context and handed on; new TLS handshakes use it, connections already
 * open keep the one they started with. A file that cannot be used is logged
 * ({@code event=tls.reload result=failure}) and counted once per distinct content, and the
 * previous context stays.
 *
 * <p>All state is guarded by this object's monitor: the poll thread and configuration reloads
 * ({@link #prepare}, {@link #commit}) take turns.
 */
final class TlsReloader implements AutoCloseable {

    /** How often the files are read; {@code -Dclosewatch.tls.poll_interval_ms} changes it (tests). */
    static final Duration DEFAULT_INTERVAL = Duration.ofMillis(Long.getLong("closewatch.tls.poll_interval_ms", 5000));

    private static final Logger LOG = LoggerFactory.getLogger(TlsReloader.class);

    private final TlsMeters meters;
    private final Consumer<SslContext> serverSink;
    private final Consumer<SslContext> upstreamSink;
    private ScheduledExecutorService scheduler;
    private Prepared current;
    /** The digest of the last file content that failed, per role, so a broken file is reported once. */
    private byte[] failedServer;
    private byte[] failedUpstream;

    /**
     * @param meters       certificate expiry gauges and reload counters
     * @param serverSink   receives a new listener context (not called with null)
     * @param upstreamSink receives a new upstream context (not called with null)
     */
    TlsReloader(TlsMeters meters, Consumer<SslContext> serverSink, Consumer<SslContext> upstreamSink) {
        this.meters = requireNonNull(meters, "meters");
        this.serverSink = requireNonNull(serverSink, "serverSink");
        this.upstreamSink = requireNonNull(upstreamSink, "upstreamSink");
    }

    /**
     * TLS contexts built from a configuration's files, with the digests of the contents they were
     * built from.
     *
     * @param server         listener context, or null for plain {@code ws://}
     * @param upstream       upstream context, or null when no route has a {@code wss://} upstream
     * @param serverDigest   SHA-256 of the listener files' contents, or null
     * @param upstreamDigest SHA-256 of the CA file's contents, or null when there is no CA file
     */
    record Prepared(TlsConfig serverConfig, SslContext server, byte[] serverDigest, Instant serverNotAfter,
                    UpstreamTlsConfig upstreamConfig, SslContext upstream, byte[] upstreamDigest, Instant caNotAfter) {
    }

    /**
     * Builds the contexts of a configuration without putting them in use.
     *
     * @param serverTls     the listener's TLS, or null
     * @param upstreamTls   the upstream TLS settings
     * @param upstreamWanted whether any route has a {@code wss://} upstream
     * @throws IOException naming the key and file when a file cannot be read or used
     */
    static Prepared prepare(TlsConfig serverTls, UpstreamTlsConfig upstreamTls, boolean upstreamWanted) throws IOException {
        SslContext server = null;
        byte[] serverDigest = null;
        Instant serverNotAfter = null;
        if (serverTls != null) {
            serverDigest = digest(serverFiles(serverTls));
            server = ProxyServer.serverTls(serverTls);
            checkServes(server, serverTls);
            serverNotAfter = serverNotAfter(serverTls);
        }
        SslContext upstream = null;
        byte[] upstreamDigest = null;
        Instant caNotAfter = null;
        if (upstreamWanted) {
            if (upstreamTls.ca() != null && !upstreamTls.insecure()) {
                upstreamDigest = digest(List.of(Path.of(upstreamTls.ca())));
                caNotAfter = earliestNotAfter(certificates("upstream.tls.ca", Path.of(upstreamTls.ca())));
            }
            upstream = ProxyServer.upstreamTls(upstreamTls);
        }
        return new Prepared(serverTls, server, serverDigest, serverNotAfter, upstreamTls, upstream, upstreamDigest,
                caNotAfter);
    }

    /**
     * Makes {@code prepared} the files to watch and publishes their expiry, after running
     * {@code putInUse} (which puts its contexts in use) under this object's lock, so no poll
     * interleaves.
     */
    synchronized void commit(Prepared prepared, Runnable putInUse) {
        requireNonNull(prepared, "prepared");
        putInUse.run();
        current = prepared;
        failedServer = null;
        failedUpstream = null;
        if (prepared.serverNotAfter() != null) {
            meters.certificate(TlsMeters.ROLE_LISTENER, serverFile(prepared.serverConfig()), prepared.serverNotAfter());
        } else {
            meters.forget(TlsMeters.ROLE_LISTENER);
        }
        if (prepared.caNotAfter() != null) {
            meters.certificate(TlsMeters.ROLE_UPSTREAM_CA, prepared.upstreamConfig().ca(), prepared.caNotAfter());
        } else {
            meters.forget(TlsMeters.ROLE_UPSTREAM_CA);
        }
    }

    /** The listener's TLS settings in use, or null for {@code ws://}. */
    synchronized TlsConfig serverConfig() {
        return current == null ? null : current.serverConfig();
    }

    /** Starts polling the files every {@code interval} on a daemon thread ({@code closewatch-tls-reload}). */
    synchronized void start(Duration interval) {
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "closewatch-tls-reload");
            t.setDaemon(true);
            return t;
        });
        long nanos = interval.toNanos();
        scheduler.scheduleWithFixedDelay(this::poll, nanos, nanos, TimeUnit.NANOSECONDS);
    }

    /** Reads the watched files once and puts any changed, usable one in use. */
    synchronized void poll() {
        if (current == null) {
            return;
        }
        try {
            pollServer();
            pollUpstream();
        } catch (RuntimeException e) {
            // on the scheduler thread an exception would silently cancel every later poll
            LOG.warn("polling the TLS files failed", e);
        }
    }

    private void pollServer() {
        TlsConfig tls = current.serverConfig();
        if (tls == null) {
            return;
        }
        byte[] digest;
        try {
            digest = digest(serverFiles(tls));
        } catch (IOException e) {
            refuse(TlsMeters.ROLE_LISTENER, serverFile(tls), null, e);
            return;
        }
        if (Arrays.equals(digest, current.serverDigest()) || Arrays.equals(digest, failedServer)) {
            return;
        }
        try {
            SslContext context = ProxyServer.serverTls(tls);
            checkServes(context, tls);
            Instant notAfter = serverNotAfter(tls);
            current = new Prepared(tls, context, digest, notAfter, current.upstreamConfig(), current.upstream(),
                    current.upstreamDigest(), current.caNotAfter());
            failedServer = null;
            serverSink.accept(context);
            meters.certificate(TlsMeters.ROLE_LISTENER, serverFile(tls), notAfter);
            meters.reloaded(TlsMeters.ROLE_LISTENER, true);
            LOG.atInfo().addKeyValue("event", "tls.reload").addKeyValue("role", TlsMeters.ROLE_LISTENER)
                    .addKeyValue("result", "success").addKeyValue("file", serverFile(tls))
                    .addKeyValue("not_after", notAfter)
                    .log("listener certificate re-read: new TLS handshakes use it");
        } catch (IOException | RuntimeException e) {
            failedServer = digest;
            refuse(TlsMeters.ROLE_LISTENER, serverFile(tls), digest, e);
        }
    }

    private void pollUpstream() {
        UpstreamTlsConfig tls = current.upstreamConfig();
        if (current.upstreamDigest() == null || tls == null || tls.ca() == null) {
            return;
        }
        byte[] digest;
        try {
            digest = digest(List.of(Path.of(tls.ca())));
        } catch (IOException e) {
            refuse(TlsMeters.ROLE_UPSTREAM_CA, tls.ca(), null, e);
            return;
        }
        if (Arrays.equals(digest, current.upstreamDigest()) || Arrays.equals(digest, failedUpstream)) {
            return;
        }
        try {
            Instant notAfter = earliestNotAfter(certificates("upstream.tls.ca", Path.of(tls.ca())));
            SslContext context = ProxyServer.upstreamTls(tls);
            current = new Prepared(current.serverConfig(), current.server(), current.serverDigest(),
                    current.serverNotAfter(), tls, context, digest, notAfter);
            failedUpstream = null;
            upstreamSink.accept(context);
            meters.certificate(TlsMeters.ROLE_UPSTREAM_CA, tls.ca(), notAfter);
            meters.reloaded(TlsMeters.ROLE_UPSTREAM_CA, true);
            LOG.atInfo().addKeyValue("event", "tls.reload").addKeyValue("role", TlsMeters.ROLE_UPSTREAM_CA)
                    .addKeyValue("result", "success").addKeyValue("file", tls.ca()).addKeyValue("not_after", notAfter)
                    .log("upstream CA re-read: new upstream TLS handshakes verify against it");
        } catch (IOException | RuntimeException e) {
            failedUpstream = digest;
            refuse(TlsMeters.ROLE_UPSTREAM_CA, tls.ca(), digest, e);
        }
    }

    /**
     * Logs and counts a changed file that cannot be used. An unreadable file (digest null: mid-way
     * through a replacement, say) is only logged at debug: the next poll tries again.
     */
    private void refuse(String role, String file, byte[] digest, Exception e) {
        if (digest == null) {
            LOG.debug("TLS file {} not readable now; trying again at the next poll: {}", file, e.toString());
            return;
        }
        meters.reloaded(role, false);
        LOG.atError().addKeyValue("event", "tls.reload").addKeyValue("role", role).addKeyValue("result", "failure")
                .addKeyValue("file", file).addKeyValue("error", e.getMessage())
                .log("changed TLS file cannot be used; the previous one stays in use");
    }

    /**
     * Completes a TLS handshake in memory between {@code server} and a client that trusts any
     * certificate, so a certificate that does not match its key (a rotation caught half-way, cert
     * already new, key still old) is refused before any client meets it: the client checks the
     * server's signature with the certificate's public key (RFC 8446 §4.4.3, RFC 5246 §7.4.3).
     *
     * @throws IOException naming the files when the handshake fails
     */
    static void checkServes(SslContext server, TlsConfig tls) throws IOException {
        SSLEngine serverEngine = null;
        SSLEngine clientEngine = null;
        try {
            SslContext client = SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build();
            serverEngine = server.newEngine(ByteBufAllocator.DEFAULT);
            clientEngine = client.newEngine(ByteBufAllocator.DEFAULT, "localhost", 443);
            clientEngine.beginHandshake();
            serverEngine.beginHandshake();
            int size = 1 << 18;
            ByteBuffer toServer = ByteBuffer.allocate(size);
            ByteBuffer toClient = ByteBuffer.allocate(size);
            ByteBuffer app = ByteBuffer.allocate(size);
            for (int round = 0; round < 32; round++) {
                pump(clientEngine, toClient, toServer, app);
                pump(serverEngine, toServer, toClient, app);
                if (done(clientEngine) && done(serverEngine) && toServer.position() == 0 && toClient.position() == 0) {
                    return;
                }
            }
            throw new SSLException("the handshake did not finish");
        } catch (SSLException e) {
            throw new IOException((tls.pkcs12() != null ? "tls.pkcs12: '" + tls.pkcs12() + "'"
                    : "tls.cert/tls.key: '" + tls.cert() + "', '" + tls.key() + "'")
                    + " cannot be used: a test handshake failed (expected: a certificate that matches its key): "
                    + e.getMessage(), e);
        } finally {
            if (serverEngine != null) {
                ReferenceCountUtil.release(serverEngine);
            }
            if (clientEngine != null) {
                ReferenceCountUtil.release(clientEngine);
            }
        }
    }

    private static boolean done(SSLEngine engine) {
        HandshakeStatus status = engine.getHandshakeStatus();
        return status == HandshakeStatus.NOT_HANDSHAKING || status == HandshakeStatus.FINISHED;
    }

    /** Feeds {@code engine} what the peer sent ({@code in}, in write mode), then lets it write what it has to. */
    private static void pump(SSLEngine engine, ByteBuffer in, ByteBuffer out, ByteBuffer app) throws SSLException {
        in.flip();
        while (in.hasRemaining()) {
            app.clear();
            SSLEngineResult r = engine.unwrap(in, app);
            runTasks(engine);
            if (r.getStatus() != SSLEngineResult.Status.OK || r.bytesConsumed() == 0) {
                break;
            }
        }
        in.compact();
        while (engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
            SSLEngineResult r = engine.wrap(ByteBuffer.allocate(0), out);
            runTasks(engine);
            if (r.getStatus() != SSLEngineResult.Status.OK) {
                break;
            }
        }
        runTasks(engine);
    }

    private static void runTasks(SSLEngine engine) {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    /** The listener's files: the keystore, or the certificate chain then the key. */
    private static List<Path> serverFiles(TlsConfig tls) {
        return tls.pkcs12() != null ? List.of(Path.of(tls.pkcs12())) : List.of(Path.of(tls.cert()), Path.of(tls.key()));
    }

    /** The file named in the {@code file} label of the listener's expiry gauge. */
    private static String serverFile(TlsConfig tls) {
        return tls.pkcs12() != null ? tls.pkcs12() : tls.cert();
    }

    private static byte[] digest(List<Path> files) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
        for (Path f : files) {
            byte[] content = Files.readAllBytes(f);
            sha.update(Long.toString(content.length).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            sha.update((byte) 0);
            sha.update(content);
        }
        return sha.digest();
    }

    /** The earliest {@code notAfter} of the serving certificate chain. */
    private static Instant serverNotAfter(TlsConfig tls) throws IOException {
        if (tls.pkcs12() == null) {
            return earliestNotAfter(certificates("tls.cert", Path.of(tls.cert())));
        }
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            char[] password = tls.password() == null ? new char[0] : tls.password().toCharArray();
            store.load(new ByteArrayInputStream(Files.readAllBytes(Path.of(tls.pkcs12()))), password);
            List<X509Certificate> chain = new ArrayList<>();
            for (Enumeration<String> aliases = store.aliases(); aliases.hasMoreElements(); ) {
                String alias = aliases.nextElement();
                if (store.isKeyEntry(alias) && store.getCertificateChain(alias) != null) {
                    for (Certificate c : store.getCertificateChain(alias)) {
                        if (c instanceof X509Certificate x) {
                            chain.add(x);
                        }
                    }
                }
            }
            return earliestNotAfter(chain);
        } catch (GeneralSecurityException e) {
            throw new IOException("tls.pkcs12: '" + tls.pkcs12() + "' cannot be used: " + e.getMessage(), e);
        }
    }

    private static List<X509Certificate> certificates(String key, Path file) throws IOException {
        try {
            List<X509Certificate> certs = new ArrayList<>();
            for (Certificate c : CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(file)))) {
                certs.add((X509Certificate) c);
            }
            return certs;
        } catch (GeneralSecurityException e) {
            throw new IOException(key + ": '" + file + "' cannot be used: " + e.getMessage(), e);
        }
    }

    private static Instant earliestNotAfter(List<X509Certificate> certs) throws IOException {
        if (certs.isEmpty()) {
            throw new IOException("no certificate in the file (expected: at least one PEM or PKCS#12 certificate)");
        }
        return Collections.min(certs.stream().map(c -> c.getNotAfter().toInstant()).toList());
    }

    @Override
    public synchronized void close() {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }
}
