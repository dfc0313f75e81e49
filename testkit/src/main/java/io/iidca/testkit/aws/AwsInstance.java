package io.iidca.testkit.aws;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One emulated EC2 instance and its instance identity document.
 *
 * <p>The document has the fields that the AWS EC2 user guide page "Instance identity documents"
 * lists, in the order and layout of documents captured from EC2 instances in 2021 and 2022:
 * pretty-printed with two-space indentation, {@code " : "} between name and value, no trailing
 * newline, {@code pendingTime} in whole seconds with a {@code Z} suffix, and {@code "version" :
 * "2017-09-30"}. The fields
 * that this record does not set have fixed values: {@code architecture} is {@code x86_64}, the
 * availability zone is the region followed by {@code a}, and the product codes, kernel and
 * ramdisk ids are {@code null}.
 *
 * <p>The constructor checks the format of every value (12-digit account, region name, instance
 * id, IPv4 address, instance type, AMI id), so the document never needs JSON escaping. It does
 * not check that a region or instance type exists. Immutable and thread-safe.
 */
public record AwsInstance(
    String accountId,
    String region,
    String instanceId,
    String privateIp,
    Instant pendingTime,
    String instanceType,
    String imageId) {

  /** The instance type that {@link #random} uses. */
  public static final String DEFAULT_INSTANCE_TYPE = "t3.micro";

  private static final Pattern ACCOUNT_ID = Pattern.compile("[0-9]{12}");
  private static final Pattern REGION = Pattern.compile("[a-z]{2}(-[a-z]+)+-[0-9]+");
  private static final Pattern INSTANCE_ID = Pattern.compile("i-([0-9a-f]{8}|[0-9a-f]{17})");
  private static final Pattern IPV4 =
      Pattern.compile("((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}"
          + "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])");
  private static final Pattern INSTANCE_TYPE = Pattern.compile("[a-z0-9-]+\\.[a-z0-9]+");
  private static final Pattern IMAGE_ID = Pattern.compile("ami-([0-9a-f]{8}|[0-9a-f]{17})");
  private static final DateTimeFormatter PENDING_TIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss'Z'").withZone(ZoneOffset.UTC);
  private static final SecureRandom RANDOM = new SecureRandom();

  /**
   * Checks every value and truncates {@code pendingTime} to whole seconds, as EC2 reports it.
   *
   * @throws IllegalArgumentException naming the field and the value when a value has the wrong
   *     format
   * @throws NullPointerException when a value is null
   */
  public AwsInstance {
    check("accountId", accountId, ACCOUNT_ID, "12 digits");
    check("region", region, REGION, "a region name such as us-east-1");
    check("instanceId", instanceId, INSTANCE_ID, "i- and 8 or 17 hex digits");
    check("privateIp", privateIp, IPV4, "an IPv4 address such as 10.0.0.1");
    check("instanceType", instanceType, INSTANCE_TYPE, "an instance type such as t3.micro");
    check("imageId", imageId, IMAGE_ID, "ami- and 8 or 17 hex digits");
    Objects.requireNonNull(pendingTime, "pendingTime");
    pendingTime = pendingTime.truncatedTo(ChronoUnit.SECONDS);
  }

  /**
   * Creates an instance with a random 17-digit instance id and AMI id, a random private IP
   * address in 10.0.0.0/8 (last octet 1 to 254), instance type {@value #DEFAULT_INSTANCE_TYPE}
   * and {@code pendingTime} now.
   */
  public static AwsInstance random(String accountId, String region) {
    String privateIp = "10." + RANDOM.nextInt(256) + "." + RANDOM.nextInt(256) + "."
        + (1 + RANDOM.nextInt(254));
    return new AwsInstance(accountId, region, "i-" + randomHex(17), privateIp, Instant.now(),
        DEFAULT_INSTANCE_TYPE, "ami-" + randomHex(17));
  }

  /** Returns the availability zone: the region followed by {@code a}. */
  public String availabilityZone() {
    return region + "a";
  }

  /**
   * Returns the IP-based private DNS name that EC2 gives the instance: {@code
   * ip-10-0-0-1.ec2.internal} in us-east-1 and {@code ip-10-0-0-1.<region>.compute.internal}
   * in every other region (AWS EC2 user guide, "Hostname types": the IP name).
   */
  public String localHostname() {
    String host = "ip-" + privateIp.replace('.', '-');
    if (region.equals("us-east-1")) {
      return host + ".ec2.internal";
    }
    return host + "." + region + ".compute.internal";
  }

  /** Returns the instance identity document as UTF-8 bytes; the same bytes on every call. */
  public byte[] document() {
    String json = "{\n"
        + field("accountId", quote(accountId))
        + field("architecture", quote("x86_64"))
        + field("availabilityZone", quote(availabilityZone()))
        + field("billingProducts", "null")
        + field("devpayProductCodes", "null")
        + field("marketplaceProductCodes", "null")
        + field("imageId", quote(imageId))
        + field("instanceId", quote(instanceId))
        + field("instanceType", quote(instanceType))
        + field("kernelId", "null")
        + field("pendingTime", quote(PENDING_TIME.format(pendingTime)))
        + field("privateIp", quote(privateIp))
        + field("ramdiskId", "null")
        + field("region", quote(region))
        + "  \"version\" : \"2017-09-30\"\n"
        + "}";
    return json.getBytes(StandardCharsets.UTF_8);
  }

  private static String field(String name, String jsonValue) {
    return "  \"" + name + "\" : " + jsonValue + ",\n";
  }

  // The constructor's patterns admit no character that JSON would need to escape.
  private static String quote(String value) {
    return "\"" + value + "\"";
  }

  private static void check(String field, String value, Pattern pattern, String expected) {
    Objects.requireNonNull(value, field);
    if (!pattern.matcher(value).matches()) {
      throw new IllegalArgumentException(
          "aws-instance: " + field + " '" + value + "' is invalid, expected " + expected);
    }
  }

  private static String randomHex(int digits) {
    byte[] bytes = new byte[(digits + 1) / 2];
    RANDOM.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes).substring(0, digits);
  }
}
