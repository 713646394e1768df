package dev.closewatch.observe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.netty.util.NetUtil;
import java.io.IOException;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The official Elastic Common Schema field definitions (.ci/ecs/ecs_flat.yml, vendored from
 * github.com/elastic/ecs, see .ci/ecs/README.md) as a validator of JSON log lines: every field
 * (nested objects flattened to dotted names) must be an ECS field whose value has the field's
 * type — keyword family: a string; long/integer: an integral number; float family: a number;
 * boolean; ip: an IPv4/IPv6 literal; date: ISO-8601 with offset — an array only where ECS
 * normalizes the field to one, and one of the field's {@code allowed_values} where it has them;
 * or lie in the custom namespace {@code closewatch.*} (a string, number or boolean), which ECS
 * itself must not define.
 */
final class EcsSchema {

    /** The vendored definitions, relative to the project directory (Surefire's working directory). */
    static final Path FLAT = Path.of(".ci", "ecs", "ecs_flat.yml");

    private record Field(String type, boolean array, Set<String> allowed) {
    }

    private final Map<String, Field> fields = new HashMap<>();
    private final String customPrefix;

    private EcsSchema(JsonNode flat, String customPrefix) {
        this.customPrefix = customPrefix;
        for (Map.Entry<String, JsonNode> e : flat.properties()) {
            JsonNode def = e.getValue();
            boolean array = false;
            for (JsonNode n : def.path("normalize")) {
                array |= "array".equals(n.asText());
            }
            Set<String> allowed = new HashSet<>();
            for (JsonNode v : def.path("allowed_values")) {
                allowed.add(v.path("name").asText());
            }
            fields.put(e.getKey(), new Field(def.path("type").asText(), array, allowed));
        }
    }

    /** Loads {@link #FLAT}; {@code customPrefix} (e.g. {@code closewatch.}) names the custom namespace. */
    static EcsSchema load(String customPrefix) throws IOException {
        EcsSchema schema = new EcsSchema(new ObjectMapper(new YAMLFactory()).readTree(FLAT.toFile()), customPrefix);
        for (String name : schema.fields.keySet()) {
            if (name.startsWith(customPrefix)) {
                throw new IllegalStateException("ECS defines " + name + ": " + customPrefix + " is no custom namespace");
            }
        }
        return schema;
    }

    /** How many fields the definitions hold. */
    int size() {
        return fields.size();
    }

    /** The ECS type of {@code name}, or null when ECS does not define it. */
    String type(String name) {
        Field f = fields.get(name);
        return f == null ? null : f.type();
    }

    /** Every problem of one JSON log line, each naming the field; empty when the line conforms. */
    List<String> validate(ObjectNode line) {
        Map<String, JsonNode> flat = new HashMap<>();
        flatten("", line, flat);
        List<String> problems = new ArrayList<>();
        flat.forEach((name, value) -> check(name, value, problems));
        problems.sort(null);
        return problems;
    }

    private static void flatten(String prefix, JsonNode node, Map<String, JsonNode> out) {
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            String name = prefix + e.getKey();
            if (e.getValue().isObject()) {
                flatten(name + ".", e.getValue(), out);
            } else if (out.put(name, e.getValue()) != null) {
                throw new IllegalArgumentException("field " + name + " twice (dotted and nested)");
            }
        }
    }

    private void check(String name, JsonNode value, List<String> problems) {
        if (name.startsWith(customPrefix)) {
            if (!(value.isTextual() || value.isNumber() || value.isBoolean())) {
                problems.add(name + ": custom field must be a string, number or boolean, not " + value.getNodeType());
            }
            return;
        }
        Field f = fields.get(name);
        if (f == null) {
            problems.add(name + ": not an ECS " + "field and not under " + customPrefix);
            return;
        }
        if (value.isArray()) {
            if (!f.array()) {
                problems.add(name + ": an array, but ECS does not normalize " + name + " to an array");
            }
            for (JsonNode v : value) {
                checkValue(name, f, v, problems);
            }
        } else {
            checkValue(name, f, value, problems);
        }
    }

    private static void checkValue(String name, Field f, JsonNode v, List<String> problems) {
        boolean ok = switch (f.type()) {
            case "keyword", "constant_keyword", "wildcard", "match_only_text", "text" -> v.isTextual();
            case "long", "integer", "short", "byte", "unsigned_long" -> v.isIntegralNumber();
            case "float", "half_float", "double", "scaled_float" -> v.isNumber();
            case "boolean" -> v.isBoolean();
            case "ip" -> v.isTextual() && (NetUtil.isValidIpV4Address(v.asText()) || NetUtil.isValidIpV6Address(v.asText()));
            case "date" -> v.isTextual() && isIsoDate(v.asText());
            default -> false;
        };
        if (!ok) {
            problems.add(name + ": " + v + " is no ECS " + f.type());
        } else if (!f.allowed().isEmpty() && !f.allowed().contains(v.asText())) {
            problems.add(name + ": " + v + " is not one of ECS's allowed values " + new java.util.TreeSet<>(f.allowed()));
        }
    }

    private static boolean isIsoDate(String text) {
        try {
            OffsetDateTime.parse(text);
            return true;
        } catch (DateTimeParseException e) {
            return false;
        }
    }
}
