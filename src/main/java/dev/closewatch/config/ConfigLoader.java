package dev.closewatch.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.deser.DeserializationProblemHandler;
import com.fasterxml.jackson.databind.deser.ValueInstantiator;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.slf4j.event.Level;

/**
 * Reads a {@link CloseWatchConfig} from YAML with Jackson: keys in snake_case, unknown keys
 * rejected, durations written {@code 250ms}, {@code 5s}, {@code 1m30s} or {@code 1h}
 * ({@link Durations}).
 *
 * <p>Reading goes on past a problem: every unknown key (with a "did you mean" among the keys
 * known at its level), every value of the wrong type and then every {@link CloseWatchConfig#validate()
 * validation} error is reported in one pass, each as {@code line N: key.path: what (expected: ...)}.
 * A YAML syntax error ends the reading at that line, since nothing after it can be trusted.
 */
public final class ConfigLoader {

    private final ObjectMapper mapper;

    public ConfigLoader() {
        SimpleModule module = new SimpleModule("closewatch-config")
                .addDeserializer(Duration.class, new DurationDeserializer())
                .addDeserializer(Level.class, new LevelDeserializer());
        // A key written twice would silently lose its first value: refuse it, with its line.
        mapper = new ObjectMapper(YAMLFactory.builder().enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build())
                .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .addHandler(new Collector())
                .registerModule(module);
    }

    /**
     * A file as read: the configuration bound from it (a key with a problem takes its default),
     * the reading problems, and where each key path stands in the file.
     *
     * @param config bound configuration, not yet validated
     * @param errors reading problems (syntax, unknown keys, wrong types), each with its line
     * @param lines  1-based line of each key path ({@code routes[0].upstream}) written in the file
     */
    public record Loaded(CloseWatchConfig config, List<String> errors, Map<String, Integer> lines) {

        public Loaded {
            errors = List.copyOf(errors);
            lines = Map.copyOf(lines);
        }

        /**
         * The reading problems, then the validation problems of {@code effective} (this file's
         * configuration, perhaps with command-line overrides), each with the line of its key path
         * when the file writes it. A validation problem under a key that already failed to read
         * is left out: that key took its default, and one report per mistake is enough.
         */
        public List<String> problems(CloseWatchConfig effective) {
            List<String> all = new ArrayList<>(errors);
            List<String> failed = errors.stream().map(ConfigLoader::keyOf).filter(Objects::nonNull).toList();
            for (String e : effective.validate()) {
                String key = keyOf("line 0: " + e);
                if (key != null && failed.stream().anyMatch(f -> under(key, f))) {
                    continue;
                }
                Integer line = key == null ? null : lineOf(key);
                all.add(line == null ? e : "line " + line + ": " + e);
            }
            return all;
        }

        private Integer lineOf(String key) {
            String k = key;
            while (!k.isEmpty()) {
                Integer line = lines.get(k);
                if (line != null) {
                    return line;
                }
                int cut = Math.max(k.lastIndexOf('.'), k.lastIndexOf('['));
                k = cut < 0 ? "" : k.substring(0, cut);
            }
            return null;
        }
    }

    /**
     * Reads and validates {@code file}.
     *
     * @throws ConfigException naming the file and, for each problem, its line, key path and what
     *                         was expected
     */
    public CloseWatchConfig load(Path file) throws ConfigException {
        Loaded loaded = readAll(file);
        List<String> problems = loaded.problems(loaded.config());
        if (!problems.isEmpty()) {
            throw new ConfigException(file.toString(), problems);
        }
        return loaded.config();
    }

    /**
     * Reads {@code file} without validating it (see {@link CloseWatchConfig#validate()}).
     *
     * @throws ConfigException listing every reading problem
     */
    public CloseWatchConfig read(Path file) throws ConfigException {
        Loaded loaded = readAll(file);
        if (!loaded.errors().isEmpty()) {
            throw new ConfigException(file.toString(), loaded.errors());
        }
        return loaded.config();
    }

    /**
     * Reads {@code file}, going on past unknown keys and wrong types.
     *
     * @throws ConfigException if the file cannot be read at all: missing, unreadable, or not YAML
     */
    public Loaded readAll(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file.toString(), List.of("file not found"));
        } catch (IOException e) {
            throw new ConfigException(file.toString(), List.of("cannot read: " + e.getMessage()));
        }
        if (text.isBlank()) {
            return new Loaded(CloseWatchConfig.defaults(), List.of(), Map.of());
        }
        Map<String, Integer> lines;
        try {
            lines = lines(text);
        } catch (JsonProcessingException e) {
            throw new ConfigException(file.toString(), List.of(syntax(e)));
        } catch (IOException e) {
            throw new ConfigException(file.toString(), List.of("cannot read: " + e.getMessage()));
        }
        List<String> errors = new ArrayList<>();
        CloseWatchConfig config;
        try {
            config = mapper.readerFor(CloseWatchConfig.class).withAttribute(Collector.class, errors)
                    .withAttribute(Loaded.class, lines).readValue(text);
        } catch (JsonMappingException e) {
            errors.add(describe(e));
            config = CloseWatchConfig.defaults();
        } catch (JsonProcessingException e) {
            throw new ConfigException(file.toString(), List.of(syntax(e)));
        }
        return new Loaded(config == null ? CloseWatchConfig.defaults() : config, errors, lines);
    }

    /** Each key path of the document with the line it is written on. */
    private Map<String, Integer> lines(String text) throws IOException {
        Map<String, Integer> lines = new HashMap<>();
        try (JsonParser p = mapper.getFactory().createParser(text)) {
            JsonToken t;
            while ((t = p.nextToken()) != null) {
                JsonStreamContext ctx = t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY
                        ? p.getParsingContext().getParent() : p.getParsingContext();
                String path = path(ctx);
                if (!path.isEmpty()) {
                    lines.putIfAbsent(path, p.currentTokenLocation().getLineNr());
                }
            }
        }
        return lines;
    }

    private static String syntax(JsonProcessingException e) {
        if (e.getCause() instanceof org.yaml.snakeyaml.error.MarkedYAMLException y && y.getProblemMark() != null) {
            // SnakeYAML's own words: the problem where it was found, and what it was reading then.
            String context = y.getContext() == null || y.getContextMark() == null ? ""
                    : "; " + y.getContext() + " started on line " + (y.getContextMark().getLine() + 1);
            return "line " + (y.getProblemMark().getLine() + 1) + ": not valid YAML: " + y.getProblem()
                    + " (column " + (y.getProblemMark().getColumn() + 1) + context + ")";
        }
        JsonLocation at = e.getLocation();
        String first = String.valueOf(e.getOriginalMessage()).lines().findFirst().orElse("").trim();
        return (at == null ? "" : "line " + at.getLineNr() + ": ") + "not valid YAML: " + first
                + (at == null ? "" : " (column " + at.getColumnNr() + ")");
    }

    /** {@code routes[0].upstream} for the parser's context; "" at the top. */
    static String path(JsonStreamContext ctx) {
        List<String> parts = new ArrayList<>();
        for (JsonStreamContext c = ctx; c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inArray()) {
                parts.add(0, "[" + Math.max(c.getCurrentIndex(), 0) + "]");
            } else if (c.getCurrentName() != null) {
                parts.add(0, "." + c.getCurrentName());
            }
        }
        String p = String.join("", parts);
        return p.startsWith(".") ? p.substring(1) : p;
    }

    /** The key path of {@code line N: key.path: ...}, or null if it has none. */
    static String keyOf(String error) {
        String rest = error.startsWith("line ") ? error.substring(error.indexOf(": ") + 2) : error;
        int colon = rest.indexOf(':');
        if (colon <= 0) {
            return null;
        }
        String key = rest.substring(0, colon);
        return key.matches("[a-z0-9_.\\[\\]]+") ? key : null;
    }

    /** Whether {@code key} is {@code parent} or a key below it. */
    static boolean under(String key, String parent) {
        return key.equals(parent) || key.startsWith(parent + ".") || key.startsWith(parent + "[");
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
        String line = e.getLocation() == null ? "" : "line " + e.getLocation().getLineNr() + ": ";
        return line + (path.length() == 0 ? "(top level)" : path) + ": " + e.getOriginalMessage();
    }

    /**
     * Damerau–Levenshtein distance (optimal string alignment): insertions, deletions,
     * substitutions and swaps of two neighbouring characters each count 1.
     */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    /**
     * The known key nearest to {@code key}, if near enough to be a slip (at most a third of its
     * length, and at most 3 edits), else null.
     */
    static String suggest(String key, Collection<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = distance(key.toLowerCase(Locale.ROOT), k);
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return best != null && bestDistance <= Math.min(3, Math.max(1, key.length() / 3)) ? best : null;
    }

    /** What a value of {@code type} looks like, for "expected: ...". */
    private static String expectation(Class<?> type) {
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "a whole number";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a single value, not a list or mapping";
        }
        if (Collection.class.isAssignableFrom(type)) {
            return "a list, one '- item' per line";
        }
        if (type == Duration.class) {
            return "a duration such as 250ms, 5s, 1m30s or 1h";
        }
        return "a mapping of keys, one 'key: value' per line";
    }

    /**
     * Records each reading problem in the list under the {@code Collector.class} attribute and
     * lets reading go on: an unknown key is skipped, a bad value read as absent (its default).
     */
    private static final class Collector extends DeserializationProblemHandler {

        @SuppressWarnings("unchecked")
        private static void add(DeserializationContext ctxt, JsonParser p, String what) {
            Object errors = ctxt.getAttribute(Collector.class);
            String path = path(p.getParsingContext());
            int line = p.currentTokenLocation().getLineNr();
            if (line < 1 && ctxt.getAttribute(Loaded.class) instanceof Map<?, ?> lines && lines.get(path) instanceof Integer l) {
                line = l; // the YAML parser gives key tokens no location; the first pass noted it
            }
            String message = (line < 1 ? "" : "line " + line + ": ") + path + ": " + what;
            if (errors instanceof List<?> list) {
                ((List<String>) list).add(message);
            }
        }

        private static boolean collecting(DeserializationContext ctxt) {
            return ctxt.getAttribute(Collector.class) != null;
        }

        @Override
        public boolean handleUnknownProperty(DeserializationContext ctxt, JsonParser p, JsonDeserializer<?> deserializer,
                                             Object beanOrClass, String propertyName) throws IOException {
            List<String> known = deserializer.getKnownPropertyNames().stream().map(String::valueOf).sorted().toList();
            String near = suggest(propertyName, known);
            String what = near != null
                    ? "unknown key (did you mean " + near + "?)"
                    : "unknown key (expected one of: " + String.join(", ", known) + ")";
            if (!collecting(ctxt)) {
                return false;
            }
            add(ctxt, p, what);
            p.skipChildren();
            return true;
        }

        @Override
        public Object handleWeirdStringValue(DeserializationContext ctxt, Class<?> targetType, String valueToConvert,
                                             String failureMsg) {
            if (!collecting(ctxt)) {
                return NOT_HANDLED;
            }
            add(ctxt, ctxt.getParser(), "'" + valueToConvert + "' (expected: " + expectation(targetType) + ")");
            return null;
        }

        @Override
        public Object handleWeirdNumberValue(DeserializationContext ctxt, Class<?> targetType, Number valueToConvert,
                                             String failureMsg) {
            if (!collecting(ctxt)) {
                return NOT_HANDLED;
            }
            add(ctxt, ctxt.getParser(), valueToConvert + " (expected: " + expectation(targetType) + ")");
            return null;
        }

        @Override
        public Object handleUnexpectedToken(DeserializationContext ctxt, JavaType targetType, JsonToken t, JsonParser p,
                                            String failureMsg) throws IOException {
            if (!collecting(ctxt)) {
                return NOT_HANDLED;
            }
            add(ctxt, p, found(p, t) + " (expected: " + expectation(targetType.getRawClass()) + ")");
            p.skipChildren();
            return null;
        }

        @Override
        public Object handleMissingInstantiator(DeserializationContext ctxt, Class<?> instClass, ValueInstantiator valueInsta,
                                                JsonParser p, String msg) throws IOException {
            if (!collecting(ctxt)) {
                return NOT_HANDLED;
            }
            add(ctxt, p, found(p, p.currentToken()) + " (expected: " + expectation(instClass) + ")");
            p.skipChildren();
            return null;
        }

        private static String found(JsonParser p, JsonToken t) throws IOException {
            if (t == JsonToken.START_ARRAY) {
                return "a list";
            }
            if (t == JsonToken.START_OBJECT) {
                return "a mapping";
            }
            return t != null && t.isScalarValue() ? "'" + p.getText() + "'" : "a value";
        }
    }

    private static final class DurationDeserializer extends JsonDeserializer<Duration> {
        @Override
        public Duration deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (!p.currentToken().isScalarValue()) {
                return (Duration) ctxt.handleUnexpectedToken(Duration.class, p);
            }
            String text = p.getValueAsString();
            try {
                return Durations.parse(text);
            } catch (IllegalArgumentException e) {
                return (Duration) ctxt.handleWeirdStringValue(Duration.class, text, e.getMessage());
            }
        }
    }

    private static final class LevelDeserializer extends JsonDeserializer<Level> {
        @Override
        public Level deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            String text = p.getValueAsString();
            try {
                return Level.valueOf(text.trim().toUpperCase(Locale.ROOT));
            } catch (RuntimeException e) {
                if (ctxt.getAttribute(Collector.class) != null) {
                    Collector.add(ctxt, p, "'" + text + "' (expected one of: trace, debug, info, warn, error)");
                    return null;
                }
                throw JsonMappingException.from(p, "'" + text + "' (expected one of: trace, debug, info, warn, error)");
            }
        }
    }
}
