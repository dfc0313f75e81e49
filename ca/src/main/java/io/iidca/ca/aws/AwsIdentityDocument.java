package io.iidca.ca.aws;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.iidca.ca.error.MalformedRequestException;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.bouncycastle.util.IPAddress;

/**
 * The fields of an EC2 instance identity document that the CA uses, with the exact bytes that
 * were signed. Field names and formats follow the AWS EC2 User Guide page "Instance identity
 * documents". Fields that the CA does not use ({@code version}, {@code kernelId},
 * {@code billingProducts} and others) are ignored.
 *
 * <p>Parsing checks that the JSON is one object without duplicate keys and that each field
 * below has the documented shape. It does not check the signature: only
 * {@link AwsDocumentVerifier} does. Instances are immutable; {@link #raw()} returns a copy.
 *
 * @param raw the document bytes exactly as served by the metadata service
 * @param accountId the 12-digit AWS account ID
 * @param instanceId the instance ID, {@code i-} and 8 or 17 hex digits
 * @param region the region code, such as {@code us-east-1}
 * @param availabilityZone the zone name, which starts with the region code
 * @param privateIp the primary private IPv4 address in dotted-decimal form, or the IPv6 address
 *     of an IPv6-only instance (the "Instance identity documents" page documents both)
 * @param pendingTime when the instance last entered the pending state
 * @param instanceType the instance type, such as {@code t3.micro}
 * @param imageId the AMI ID, {@code ami-} and 8 or 17 hex digits
 * @param architecture the CPU architecture, such as {@code x86_64} or {@code arm64}
 */
public record AwsIdentityDocument(byte[] raw, String accountId, String instanceId, String region,
    String availabilityZone, String privateIp, Instant pendingTime, String instanceType,
    String imageId, String architecture) {

  static final String STAGE = "verify-aws";

  /** Real documents are under 2 KiB; the limit bounds the parsing work for hostile input. */
  static final int MAX_DOCUMENT_BYTES = 64 * 1024;

  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  private static final Pattern ACCOUNT_ID = Pattern.compile("[0-9]{12}");
  private static final Pattern INSTANCE_ID = Pattern.compile("i-(?:[0-9a-f]{8}|[0-9a-f]{17})");
  private static final Pattern IMAGE_ID = Pattern.compile("ami-(?:[0-9a-f]{8}|[0-9a-f]{17})");
  /** Region codes of every partition: us-east-1, cn-north-1, us-gov-west-1, eusc-de-east-1. */
  private static final Pattern REGION = Pattern.compile("[a-z]{2,4}(?:-[a-z]+)+-[0-9]{1,2}");
  /** Zone names: us-east-1a, and Local Zones or Wavelength Zones such as us-west-2-lax-1a. */
  private static final Pattern ZONE_SUFFIX = Pattern.compile("[a-z0-9-]{1,40}");
  private static final Pattern IPV4 = Pattern.compile(
      "(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}"
          + "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])");
  private static final Pattern INSTANCE_TYPE = Pattern.compile("[a-z0-9][a-z0-9.-]{0,63}");
  private static final Pattern ARCHITECTURE = Pattern.compile("[a-z0-9_]{1,32}");

  /** Copies {@code raw} and checks that no component is null. */
  public AwsIdentityDocument {
    raw = Objects.requireNonNull(raw, "raw").clone();
    Objects.requireNonNull(accountId, "accountId");
    Objects.requireNonNull(instanceId, "instanceId");
    Objects.requireNonNull(region, "region");
    Objects.requireNonNull(availabilityZone, "availabilityZone");
    Objects.requireNonNull(privateIp, "privateIp");
    Objects.requireNonNull(pendingTime, "pendingTime");
    Objects.requireNonNull(instanceType, "instanceType");
    Objects.requireNonNull(imageId, "imageId");
    Objects.requireNonNull(architecture, "architecture");
  }

  /**
   * Parses a document and checks the shape of each field that the CA uses. The signature is not
   * checked here.
   *
   * @param json the document bytes, UTF-8 JSON
   * @throws MalformedRequestException with stage {@code verify-aws} naming the first missing or
   *     invalid field, or saying why the bytes are not a JSON object
   */
  public static AwsIdentityDocument parse(byte[] json) {
    Objects.requireNonNull(json, "json");
    JsonNode root = readObject(json);
    String region = field(root, "region", REGION, "a region code such as us-east-1");
    String zone = text(root, "availabilityZone");
    if (!zone.startsWith(region)
        || !ZONE_SUFFIX.matcher(zone.substring(region.length())).matches()) {
      throw invalid("availabilityZone", zone, "a zone of region " + region + ", such as "
          + region + "a");
    }
    return new AwsIdentityDocument(json,
        field(root, "accountId", ACCOUNT_ID, "12 digits"),
        field(root, "instanceId", INSTANCE_ID, "i- and 8 or 17 hex digits"),
        region,
        zone,
        privateIp(root),
        instant(root, "pendingTime"),
        field(root, "instanceType", INSTANCE_TYPE, "an instance type such as t3.micro"),
        field(root, "imageId", IMAGE_ID, "ami- and 8 or 17 hex digits"),
        field(root, "architecture", ARCHITECTURE, "an architecture such as x86_64"));
  }

  /** Returns a copy of the signed document bytes. */
  @Override
  public byte[] raw() {
    return raw.clone();
  }

  /**
   * Returns the instance's IP-based private hostname, as the AWS EC2 User Guide page "Amazon EC2
   * instance hostname types" defines it: {@code ip-10-0-0-1.ec2.internal} in us-east-1 and
   * {@code ip-10-0-0-1.<region>.compute.internal} in every other region. The name is derived
   * from the document alone: whether the subnet uses IP names or resource names is not checked.
   *
   * @throws IllegalStateException if {@link #privateIp()} is an IPv6 address, because EC2 names
   *     instances in IPv6-only subnets by instance ID, not by IP address
   */
  public String privateDnsName() {
    if (isIpv6(privateIp)) {
      throw new IllegalStateException("instance " + instanceId + " has the IPv6 privateIp "
          + privateIp + ", and IPv6-only instances have no IP-based hostname");
    }
    String host = "ip-" + privateIp.replace('.', '-');
    if (region.equals("us-east-1")) {
      return host + ".ec2.internal";
    }
    return host + "." + region + ".compute.internal";
  }

  /** Returns the parsed fields in a fixed order for printing, without the raw bytes. */
  public Map<String, Object> toJson() {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("accountId", accountId);
    json.put("instanceId", instanceId);
    json.put("region", region);
    json.put("availabilityZone", availabilityZone);
    json.put("privateIp", privateIp);
    json.put("pendingTime", pendingTime.toString());
    json.put("instanceType", instanceType);
    json.put("imageId", imageId);
    json.put("architecture", architecture);
    return Collections.unmodifiableMap(json);
  }

  /** Compares the raw bytes by content, so that two parses of one document are equal. */
  @Override
  public boolean equals(Object other) {
    return other instanceof AwsIdentityDocument that
        && Arrays.equals(raw, that.raw)
        && accountId.equals(that.accountId)
        && instanceId.equals(that.instanceId)
        && region.equals(that.region)
        && availabilityZone.equals(that.availabilityZone)
        && privateIp.equals(that.privateIp)
        && pendingTime.equals(that.pendingTime)
        && instanceType.equals(that.instanceType)
        && imageId.equals(that.imageId)
        && architecture.equals(that.architecture);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(raw) + Objects.hash(accountId, instanceId, region,
        availabilityZone, privateIp, pendingTime, instanceType, imageId, architecture);
  }

  /** Returns the parsed fields and the length of the raw bytes, not the bytes themselves. */
  @Override
  public String toString() {
    return "AwsIdentityDocument" + toJson() + " (" + raw.length + " bytes)";
  }

  private static JsonNode readObject(byte[] json) {
    if (json.length == 0) {
      throw new MalformedRequestException(STAGE, "document is empty");
    }
    if (json.length > MAX_DOCUMENT_BYTES) {
      throw new MalformedRequestException(STAGE, "document is " + json.length
          + " bytes, more than the maximum of " + MAX_DOCUMENT_BYTES);
    }
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JacksonException e) {
      throw new MalformedRequestException(STAGE, "document is not valid JSON: "
          + e.getOriginalMessage() + at(e.getLocation()), e);
    } catch (IOException e) {
      throw new MalformedRequestException(STAGE, "document cannot be read: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new MalformedRequestException(STAGE, "document is not a JSON object");
    }
    return root;
  }

  private static String at(JsonLocation location) {
    if (location == null || location.getLineNr() < 1) {
      return "";
    }
    return " at line " + location.getLineNr() + ", column " + location.getColumnNr();
  }

  private static String text(JsonNode root, String name) {
    JsonNode node = root.get(name);
    if (node == null || node.isNull()) {
      throw new MalformedRequestException(STAGE, "document field " + name + " is missing");
    }
    if (!node.isTextual()) {
      throw new MalformedRequestException(STAGE, "document field " + name + " is a JSON "
          + node.getNodeType().toString().toLowerCase(Locale.ROOT)
          + ", expected a string");
    }
    return node.textValue();
  }

  private static String field(JsonNode root, String name, Pattern shape, String expected) {
    String value = text(root, name);
    if (!shape.matcher(value).matches()) {
      throw invalid(name, value, expected);
    }
    return value;
  }

  private static String privateIp(JsonNode root) {
    String value = text(root, "privateIp");
    if (IPV4.matcher(value).matches() || isIpv6(value)) {
      return value;
    }
    throw invalid("privateIp", value, "a dotted-decimal IPv4 address or an IPv6 address");
  }

  private static boolean isIpv6(String value) {
    return value.indexOf(':') >= 0 && IPAddress.isValidIPv6(value);
  }

  private static Instant instant(JsonNode root, String name) {
    String value = text(root, name);
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw invalid(name, value, "an ISO-8601 UTC time such as 2024-01-31T12:00:00Z");
    }
  }

  private static MalformedRequestException invalid(String name, String value, String expected) {
    return new MalformedRequestException(STAGE, "document field " + name + " " + quote(value)
        + " is invalid: expected " + expected);
  }

  /** Quotes a value for a message, shortened and with control characters escaped. */
  private static String quote(String value) {
    String shown = value.length() > 64 ? value.substring(0, 64) + "..." : value;
    StringBuilder out = new StringBuilder("\"");
    shown.codePoints().forEach(c -> {
      if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
        out.append(String.format("\\u%04x", c));
      } else {
        out.appendCodePoint(c);
      }
    });
    return out.append('"').toString();
  }
}
