package io.iidca.ca.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.error.MalformedRequestException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class AwsIdentityDocumentTest {

  private static final String TELEPORT = "teleport-join_ec2_test-instance1-usw2-2021";

  @Test
  void parseReadsRealDocument() {
    byte[] raw = AwsFixtures.read(TELEPORT, "document.json");

    AwsIdentityDocument document = AwsIdentityDocument.parse(raw);

    assertThat(document.raw()).isEqualTo(raw);
    assertThat(document.accountId()).isEqualTo("278576220453");
    assertThat(document.instanceId()).isEqualTo("i-078517ca8a70a1dde");
    assertThat(document.region()).isEqualTo("us-west-2");
    assertThat(document.availabilityZone()).isEqualTo("us-west-2a");
    assertThat(document.privateIp()).isEqualTo("10.0.0.209");
    assertThat(document.pendingTime()).isEqualTo(Instant.parse("2021-09-03T21:25:44Z"));
    assertThat(document.instanceType()).isEqualTo("t2.medium");
    assertThat(document.imageId()).isEqualTo("ami-0fa9e1f64142cde17");
    assertThat(document.architecture()).isEqualTo("x86_64");
    assertThat(document.privateDnsName()).isEqualTo("ip-10-0-0-209.us-west-2.compute.internal");
  }

  @ParameterizedTest
  @ValueSource(strings = {"accountId", "instanceId", "region", "availabilityZone", "privateIp",
      "pendingTime", "instanceType", "imageId", "architecture"})
  void parseRejectsMissingField(String field) {
    Map<String, String> fields = Documents.fields();
    fields.remove(field);

    assertMalformed(Documents.json(fields), "document field " + field + " is missing");
  }

  @ParameterizedTest
  @ValueSource(strings = {"accountId", "region", "privateIp", "pendingTime"})
  void parseRejectsNullField(String field) {
    Map<String, String> fields = Documents.fields();
    fields.put(field, "null");

    assertMalformed(Documents.json(fields), "document field " + field + " is missing");
  }

  static Stream<Arguments> invalidFields() {
    return Stream.of(
        Arguments.of("accountId", "\"12345\"", "document field accountId \"12345\" is invalid:"
            + " expected 12 digits"),
        Arguments.of("accountId", "111122223333",
            "document field accountId is a JSON number, expected a string"),
        Arguments.of("instanceId", "\"x-0123456789abcdef0\"",
            "document field instanceId \"x-0123456789abcdef0\" is invalid: expected i- and 8 or"
                + " 17 hex digits"),
        Arguments.of("instanceId", "\"i-0123\"", "document field instanceId \"i-0123\" is"
            + " invalid: expected i- and 8 or 17 hex digits"),
        Arguments.of("region", "\"US-EAST-1\"", "document field region \"US-EAST-1\" is invalid:"
            + " expected a region code such as us-east-1"),
        Arguments.of("region", "\"us-east-1.evil.example\"", "document field region"
            + " \"us-east-1.evil.example\" is invalid: expected a region code such as us-east-1"),
        Arguments.of("availabilityZone", "\"eu-west-1a\"", "document field availabilityZone"
            + " \"eu-west-1a\" is invalid: expected a zone of region us-east-1, such as"
            + " us-east-1a"),
        Arguments.of("privateIp", "\"10.0.0.256\"", "document field privateIp \"10.0.0.256\" is"
            + " invalid: expected a dotted-decimal IPv4 address or an IPv6 address"),
        Arguments.of("privateIp", "\"010.0.0.1\"", "document field privateIp \"010.0.0.1\" is"
            + " invalid: expected a dotted-decimal IPv4 address or an IPv6 address"),
        Arguments.of("privateIp", "\"fd00:ec2::zz\"", "document field privateIp \"fd00:ec2::zz\""
            + " is invalid: expected a dotted-decimal IPv4 address or an IPv6 address"),
        Arguments.of("pendingTime", "\"yesterday\"", "document field pendingTime \"yesterday\""
            + " is invalid: expected an ISO-8601 UTC time such as 2024-01-31T12:00:00Z"),
        Arguments.of("instanceType", "\"T3 MICRO\"", "document field instanceType \"T3 MICRO\""
            + " is invalid: expected an instance type such as t3.micro"),
        Arguments.of("imageId", "\"ami-XYZ\"", "document field imageId \"ami-XYZ\" is invalid:"
            + " expected ami- and 8 or 17 hex digits"),
        Arguments.of("architecture", "[\"x86_64\"]",
            "document field architecture is a JSON array, expected a string"),
        Arguments.of("architecture", "\"x86\\n64\"", "document field architecture"
            + " \"x86\\u000a64\" is invalid: expected an architecture such as x86_64"));
  }

  @ParameterizedTest
  @MethodSource("invalidFields")
  void parseRejectsInvalidField(String field, String jsonValue, String reason) {
    Map<String, String> fields = Documents.fields();
    fields.put(field, jsonValue);

    assertMalformed(Documents.json(fields), reason);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "[1, 2]| document is not a JSON object",
      "\"text\"| document is not a JSON object",
      "{\"accountId\" : |document is not valid JSON: ",
      "{} {}| document is not valid JSON: ",
      "{\"region\" : \"us-east-1\", \"region\" : \"eu-west-1\"}| document is not valid JSON:"
          + " Duplicate field 'region'"})
  void parseRejectsNonObject(String json, String reasonStart) {
    assertThatThrownBy(() -> AwsIdentityDocument.parse(json.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(MalformedRequestException.class)
        .hasMessageStartingWith("verify-aws: " + reasonStart.strip());
  }

  @Test
  void parseRejectsEmpty() {
    assertMalformed(new byte[0], "document is empty");
  }

  @Test
  void parseRejectsOversized() {
    byte[] huge = new byte[AwsIdentityDocument.MAX_DOCUMENT_BYTES + 1];

    assertMalformed(huge, "document is 65537 bytes, more than the maximum of 65536");
  }

  @Test
  void parseRejectsInvalidUtf8WithoutEchoingBytes() {
    byte[] raw = AwsFixtures.read("NEGATIVE-edited-content-use1-2015", "document.json");

    assertThatThrownBy(() -> AwsIdentityDocument.parse(raw))
        .isInstanceOf(MalformedRequestException.class)
        .hasMessageStartingWith("verify-aws: document is not valid JSON: ")
        .hasMessageContaining("at line 6, column 16")
        .hasMessageNotContaining("i-aaaf2d1a");
  }

  @Test
  void parseAcceptsLocalZoneAndExtraFields() {
    Map<String, String> fields = Documents.fields();
    fields.put("region", "\"us-west-2\"");
    fields.put("availabilityZone", "\"us-west-2-lax-1a\"");
    fields.put("futureField", "{\"nested\" : [1, 2]}");

    AwsIdentityDocument document = AwsIdentityDocument.parse(Documents.json(fields));

    assertThat(document.availabilityZone()).isEqualTo("us-west-2-lax-1a");
  }

  @ParameterizedTest
  @CsvSource({
      "us-east-1, 10.0.0.1, ip-10-0-0-1.ec2.internal",
      "us-east-2, 172.31.84.238, ip-172-31-84-238.us-east-2.compute.internal",
      "us-west-2, 10.24.34.0, ip-10-24-34-0.us-west-2.compute.internal",
      "cn-north-1, 10.0.0.1, ip-10-0-0-1.cn-north-1.compute.internal",
      "us-gov-west-1, 192.168.1.10, ip-192-168-1-10.us-gov-west-1.compute.internal",
      "eusc-de-east-1, 10.1.2.3, ip-10-1-2-3.eusc-de-east-1.compute.internal"})
  void privateDnsNameFollowsIpNameFormat(String region, String ip, String expected) {
    Map<String, String> fields = Documents.fields();
    fields.put("region", "\"" + region + "\"");
    fields.put("availabilityZone", "\"" + region + "b\"");
    fields.put("privateIp", "\"" + ip + "\"");

    assertThat(AwsIdentityDocument.parse(Documents.json(fields)).privateDnsName())
        .isEqualTo(expected);
  }

  @Test
  void ipv6OnlyInstanceHasNoIpName() {
    Map<String, String> fields = Documents.fields();
    fields.put("privateIp", "\"2600:1f18:abcd:1200::10\"");

    AwsIdentityDocument document = AwsIdentityDocument.parse(Documents.json(fields));

    assertThat(document.privateIp()).isEqualTo("2600:1f18:abcd:1200::10");
    assertThatThrownBy(document::privateDnsName)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("instance i-0123456789abcdef0 has the IPv6 privateIp 2600:1f18:abcd:1200::10,"
            + " and IPv6-only instances have no IP-based hostname");
  }

  @Test
  void toJsonListsParsedFieldsOnly() {
    AwsIdentityDocument document = AwsIdentityDocument.parse(Documents.inRegion("eu-west-1"));

    assertThat(document.toJson()).containsExactly(
        Map.entry("accountId", "111122223333"),
        Map.entry("instanceId", "i-0123456789abcdef0"),
        Map.entry("region", "eu-west-1"),
        Map.entry("availabilityZone", "eu-west-1a"),
        Map.entry("privateIp", "10.0.0.1"),
        Map.entry("pendingTime", "2024-05-01T10:00:00Z"),
        Map.entry("instanceType", "t3.micro"),
        Map.entry("imageId", "ami-0123456789abcdef0"),
        Map.entry("architecture", "x86_64"));
  }

  @Test
  void rawIsCopiedAndComparedByContent() {
    byte[] bytes = Documents.inRegion("eu-west-1");
    AwsIdentityDocument first = AwsIdentityDocument.parse(bytes);
    AwsIdentityDocument second = AwsIdentityDocument.parse(bytes.clone());

    bytes[0] = 'X';
    first.raw()[1] = 'X';

    assertThat(first.raw()).isEqualTo(Documents.inRegion("eu-west-1"));
    assertThat(first).isEqualTo(second);
    assertThat(first).hasSameHashCodeAs(second);
    assertThat(first.toString()).doesNotContain("\"version\"").contains("bytes");
  }

  private static void assertMalformed(byte[] json, String reason) {
    assertThatThrownBy(() -> AwsIdentityDocument.parse(json))
        .isInstanceOf(MalformedRequestException.class)
        .hasMessage("verify-aws: " + reason)
        .extracting(e -> ((MalformedRequestException) e).stage())
        .isEqualTo("verify-aws");
  }
}
