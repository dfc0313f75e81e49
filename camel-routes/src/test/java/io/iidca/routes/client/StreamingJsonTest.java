package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Compares StreamingJson with an ObjectMapper in its default settings. */
class StreamingJsonTest {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"provisioners\":[{\"name\":\"aws\",\"type\":\"AWS\",\"claims\":{\"maxTls\":\"24h\"}}]}",
      "{\"crt\":\"-----BEGIN CERTIFICATE-----\\nMIIB\\n\",\"ca\":\"x\",\"requestId\":\"r-1\"}",
      "{\"small\":7,\"negative\":-0,\"long\":9007199254740993,"
          + "\"big\":123456789012345678901234567890,\"float\":0.1,\"exponent\":-1.5e-7,"
          + "\"huge\":1e400,\"tiny\":-1e-400,\"long fraction\":123456789012345678901234567890.5}",
      "{\"yes\":true,\"no\":false,\"none\":null,\"empty\":{},\"list\":[]}",
      "{\"escaped\":\"quote \\\" backslash \\\\ tab \\t \\u00e9 \\ud83d\\ude00\"}",
      "{\"same\":1,\"same\":2}",
      "[1,[2,[3,{\"deep\":[4]}]],\"five\"]",
      "42",
      "\"text\"",
      "null",
      "  {\"padded\" : [ 1 , 2 ] }  ",
      "{\"first\":1} {\"second\":2}",
      "",
      "   \n"})
  void readsTreeAsObjectMapperDoes(String json) throws IOException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);

    JsonNode streamed = StreamingJson.read(bytes);

    assertThat(streamed).isEqualTo(MAPPER.readTree(bytes));
    assertThat(streamed.getNodeType()).isEqualTo(MAPPER.readTree(bytes).getNodeType());
  }

  @Test
  void numberNodesHaveMapperTypes() throws IOException {
    byte[] bytes = "{\"i\":1,\"l\":4294967296,\"b\":99999999999999999999,\"d\":2.5}"
        .getBytes(StandardCharsets.UTF_8);

    JsonNode streamed = StreamingJson.read(bytes);
    JsonNode mapped = MAPPER.readTree(bytes);

    for (String field : new String[] {"i", "l", "b", "d"}) {
      assertThat(streamed.get(field).numberType()).as(field)
          .isEqualTo(mapped.get(field).numberType());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"{", "{\"a\":}", "[1,]", "<html>Bad Gateway</html>", "{\"a\" 1}"})
  void rejectsWhatObjectMapperRejects(String json) {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> MAPPER.readTree(bytes)).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> StreamingJson.read(bytes)).isInstanceOf(IOException.class);
  }

  @Test
  void byteOrderMarksReadAsObjectMapperDoes() throws IOException {
    byte[] utf8 = "\uFEFF{\"message\":\"\u00e9\"}".getBytes(StandardCharsets.UTF_8);
    byte[] utf16 = "\uFEFF{\"message\":\"\u00e9\"}".getBytes(StandardCharsets.UTF_16BE);

    assertThat(StreamingJson.read(utf8)).isEqualTo(MAPPER.readTree(utf8));
    assertThat(StreamingJson.read(utf16)).isEqualTo(MAPPER.readTree(utf16));
  }

  @Test
  void deepNestingRaisesIoException() {
    byte[] json = ("[".repeat(5000) + "]".repeat(5000)).getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> MAPPER.readTree(json)).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> StreamingJson.read(json)).isInstanceOf(IOException.class);
  }

  @Test
  void writesBytesAsObjectMapperDoes() throws IOException {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("csr", "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n");
    fields.put("ott", "eyJ.eyJ.sig");
    fields.put("quotes", "\"a\" \\ </script> \u0001 \u00e9 \ud83d\ude00");
    fields.put("absent", null);

    assertThat(StreamingJson.write(fields)).isEqualTo(MAPPER.writeValueAsBytes(fields));
  }
}
