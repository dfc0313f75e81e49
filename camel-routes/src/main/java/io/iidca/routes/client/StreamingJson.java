package io.iidca.routes.client;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;

/**
 * Reads JSON into Jackson's tree model and writes flat JSON objects with Jackson's streaming
 * parser and generator, without an {@code ObjectMapper}. Starting an {@code ObjectMapper} took
 * about 40 ms in a cold JVM, most of it the JDK's locale data for the mapper's default date
 * format, and {@code iidca certificate} needs neither data binding nor dates
 * (bench/RESULTS.md). {@link #read} returns the same tree as {@code ObjectMapper.readTree} with
 * its default settings, which {@code StreamingJsonTest} compares.
 */
final class StreamingJson {

  private static final JsonFactory FACTORY = new JsonFactory();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private StreamingJson() {}

  /**
   * Parses a JSON text. An empty input gives a {@link MissingNode}, and text after the first
   * value is ignored, as {@code ObjectMapper.readTree} does.
   *
   * @throws IOException when the input is not JSON
   */
  static JsonNode read(byte[] json) throws IOException {
    try (JsonParser parser = FACTORY.createParser(json)) {
      JsonToken first = parser.nextToken();
      return first == null ? MissingNode.getInstance() : node(parser, first);
    }
  }

  /** Returns the fields as the UTF-8 bytes of a JSON object, in the map's order. */
  static byte[] write(Map<String, String> fields) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator generator = FACTORY.createGenerator(out)) {
      generator.writeStartObject();
      for (Map.Entry<String, String> field : fields.entrySet()) {
        generator.writeStringField(field.getKey(), field.getValue());
      }
      generator.writeEndObject();
    }
    return out.toByteArray();
  }

  /** Reads the value that starts at {@code token}; the parser's nesting limit bounds the depth. */
  private static JsonNode node(JsonParser parser, JsonToken token) throws IOException {
    switch (token) {
      case START_OBJECT -> {
        ObjectNode object = NODES.objectNode();
        for (JsonToken next = parser.nextToken(); next == JsonToken.FIELD_NAME;
            next = parser.nextToken()) {
          String name = parser.currentName();
          object.set(name, node(parser, parser.nextToken()));
        }
        return object;
      }
      case START_ARRAY -> {
        ArrayNode array = NODES.arrayNode();
        for (JsonToken next = parser.nextToken(); next != JsonToken.END_ARRAY;
            next = parser.nextToken()) {
          array.add(node(parser, next));
        }
        return array;
      }
      case VALUE_STRING -> {
        return NODES.textNode(parser.getText());
      }
      case VALUE_NUMBER_INT -> {
        return switch (parser.getNumberType()) {
          case INT -> NODES.numberNode(parser.getIntValue());
          case LONG -> NODES.numberNode(parser.getLongValue());
          default -> NODES.numberNode(parser.getBigIntegerValue());
        };
      }
      case VALUE_NUMBER_FLOAT -> {
        return NODES.numberNode(parser.getDoubleValue());
      }
      case VALUE_TRUE, VALUE_FALSE -> {
        return NODES.booleanNode(token == JsonToken.VALUE_TRUE);
      }
      case VALUE_NULL -> {
        return NODES.nullNode();
      }
      default -> throw new JsonParseException(parser, "unexpected JSON token " + token);
    }
  }
}
