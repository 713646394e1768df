package dev.closewatch.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.event.Level;

/**
 * Reads a {@link CloseWatchConfig} from YAML with Jackson: keys in snake_case, unknown keys
 * rejected, durations written {@code 250ms}, {@code 5s}, {@code 2m} or {@code 1h}.
 */
public final class ConfigLoader {

    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");

    private final ObjectMapper mapper;

    public ConfigLoader() {
        SimpleModule module = new SimpleModule("closewatch-config")
                .addDeserializer(Duration.class, new DurationDeserializer())
                .addDeserializer(Level.class, new LevelDeserializer());
        mapper = new ObjectMapper(new YAMLFactory())
                .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .registerModule(module);
    }

    /**
     * Reads and validates {@code file}.
     *
     * @throws ConfigException naming the file and, for each problem, the key path and what was
     *                         expected
     */
    public CloseWatchConfig load(Path file) throws ConfigException {
        CloseWatchConfig config = read(file);
        List<String> errors = config.validate();
        if (!errors.isEmpty()) {
            throw new ConfigException(file.toString(), errors);
        }
        return config;
    }

    /** Reads {@code file} without validating it (see {@link CloseWatchConfig#validate()}). */
    public CloseWatchConfig read(Path file) throws ConfigException {
        try {
            String text = Files.readString(file);
            if (text.isBlank()) {
                return CloseWatchConfig.defaults();
            }
            return mapper.readValue(text, CloseWatchConfig.class);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file.toString(), List.of("file not found"));
        } catch (JsonMappingException e) {
            throw new ConfigException(file.toString(), List.of(describe(e)));
        } catch (JsonProcessingException e) {
            throw new ConfigException(file.toString(), List.of("not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")")));
        } catch (IOException e) {
            throw new ConfigException(file.toString(), List.of("cannot read: " + e.getMessage()));
        }
    }

    private static String describe(JsonMappingException e) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
            } else if (ref.getFieldName() != null) {
                path.append(path.length() == 0 ? "" : ".").append(ref.getFieldName());
            }
        }
        String line = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")";
        String message = e.getOriginalMessage();
        if (message.startsWith("Unrecognized field")) {
            message = "unknown key (expected one of the keys documented in config/closewatch.yaml)";
        }
        return (path.length() == 0 ? "(top level)" : path) + ": " + message + line;
    }

    private static final class DurationDeserializer extends JsonDeserializer<Duration> {
        @Override
        public Duration deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            String text = p.getValueAsString();
            Matcher m = text == null ? null : DURATION.matcher(text.trim());
            if (m == null || !m.matches()) {
                throw JsonMappingException.from(p, "'" + text + "' (expected: a duration such as 250ms, 5s, 2m or 1h)");
            }
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            };
        }
    }

    private static final class LevelDeserializer extends JsonDeserializer<Level> {
        @Override
        public Level deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            String text = p.getValueAsString();
            try {
                return Level.valueOf(text.trim().toUpperCase(Locale.ROOT));
            } catch (RuntimeException e) {
                throw JsonMappingException.from(p, "'" + text + "' (expected one of: trace, debug, info, warn, error)");
            }
        }
    }
}
