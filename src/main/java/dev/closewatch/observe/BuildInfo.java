package dev.closewatch.observe;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * What was built and what runs it: the project version and git revision written into
 * {@code build-info.properties} by the Maven build, and the Java runtime's version.
 *
 * @param version the Maven project version, e.g. {@code 0.1.0-SNAPSHOT}; {@value #UNKNOWN} when the
 *     class was not built by Maven (an IDE's own compiler leaves the placeholder)
 * @param revision the full git commit id the build was made from; {@value #UNKNOWN} when the build
 *     had no {@code .git} and no {@code -Dclosewatch.revision}
 * @param java the runtime's {@link Runtime.Version}, e.g. {@code 17.0.13+11}
 */
public record BuildInfo(String version, String revision, String java) {

    /** The value of a field the build could not tell. */
    public static final String UNKNOWN = "unknown";

    static final String RESOURCE = "build-info.properties";

    private static final BuildInfo CURRENT = load(BuildInfo.class.getResourceAsStream(RESOURCE));

    public BuildInfo {
        requireNonNull(version, "version");
        requireNonNull(revision, "revision");
        requireNonNull(java, "java");
    }

    /** The build info of the running closewatch, read once from the class path. */
    public static BuildInfo current() {
        return CURRENT;
    }

    /**
     * Reads {@code version} and {@code revision} from a properties stream and closes it; a missing
     * stream, a missing key, an empty value or an unresolved {@code ${...}} placeholder reads as
     * {@value #UNKNOWN}.
     *
     * @throws UncheckedIOException if the stream cannot be read
     */
    static BuildInfo load(InputStream properties) {
        Properties p = new Properties();
        if (properties != null) {
            try (InputStream in = properties) {
                p.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + RESOURCE, e);
            }
        }
        return new BuildInfo(known(p.getProperty("version")), known(p.getProperty("revision")),
                Runtime.version().toString());
    }

    private static String known(String value) {
        if (value == null || value.isBlank() || value.contains("${")) {
            return UNKNOWN;
        }
        return value.strip();
    }
}
