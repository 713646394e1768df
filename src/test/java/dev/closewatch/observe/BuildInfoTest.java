package dev.closewatch.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class BuildInfoTest {

    private static BuildInfo parse(String properties) {
        return BuildInfo.load(new ByteArrayInputStream(properties.getBytes(StandardCharsets.ISO_8859_1)));
    }

    @Test
    void shouldReadTheVersionAndRevisionTheBuildWrote() {
        // Given the resource Maven filtered for this build
        BuildInfo info = BuildInfo.current();
        // Then it carries the POM's version and the full git commit id (or "unknown" in a tree without .git),
        // and the running Java
        assertEquals(System.getProperty("closewatch.expected.version"), info.version());
        assertTrue(Files.exists(Path.of(".git"))
                ? info.revision().matches("[0-9a-f]{40}") : info.revision().equals("unknown"), info.revision());
        assertEquals(Runtime.version().toString(), info.java());
    }

    @Test
    void shouldReadUnknownForPlaceholdersMissingKeysAndNoResource() {
        // Given a build without .git (the placeholder stays), one without keys, and no resource at all
        BuildInfo unfiltered = parse("version=1.2.3\nrevision=${git.commit.id}\n");
        BuildInfo empty = parse("version=\n");
        BuildInfo none = BuildInfo.load(null);
        // Then what the build could not tell reads "unknown"
        assertEquals(new BuildInfo("1.2.3", "unknown", Runtime.version().toString()), unfiltered);
        assertEquals(new BuildInfo("unknown", "unknown", Runtime.version().toString()), empty);
        assertEquals(new BuildInfo("unknown", "unknown", Runtime.version().toString()), none);
    }

    @Test
    void shouldPublishTheBuildAsAGaugeOfOne() {
        // Given a registry with the build-info binder
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new BuildInfoMetrics(new BuildInfo("1.2.3", "0123456789abcdef0123456789abcdef01234567", "17.0.13+11"))
                .bindTo(registry);
        // Then there is exactly one series, value 1, with the three labels
        Gauge gauge = registry.get(MeterNames.BUILD_INFO).tag("version", "1.2.3")
                .tag("revision", "0123456789abcdef0123456789abcdef01234567").tag("java", "17.0.13+11").gauge();
        assertEquals(1.0, gauge.value());
        assertEquals(1, registry.find(MeterNames.BUILD_INFO).gauges().size());
    }

    @Test
    void shouldExposeBuildInfoInTheScrapeOfTheAdminRegistry() {
        // Given the registry the admin server serves at /metrics
        PrometheusMeterRegistry registry = Registries.prometheus();
        BuildInfo info = BuildInfo.current();
        // When it is scraped
        String scrape = registry.scrape();
        // Then closewatch_build_info carries the running build's labels and the value 1
        String line = scrape.lines().filter(l -> l.startsWith("closewatch_build_info{")).findFirst().orElseThrow(
                () -> new AssertionError("no closewatch_build_info in:\n" + scrape));
        assertEquals("closewatch_build_info{java=\"" + info.java() + "\",revision=\"" + info.revision()
                + "\",version=\"" + info.version() + "\"} 1", line);
        registry.close();
    }
}
