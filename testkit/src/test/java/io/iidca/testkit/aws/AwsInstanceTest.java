package io.iidca.testkit.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AwsInstanceTest {

  private static final AwsInstance INSTANCE = new AwsInstance("628783029487", "us-east-1",
      "i-076e9b91f7c420782", "172.31.84.238", Instant.parse("2022-03-25T20:07:16.789Z"),
      "t2.micro", "ami-0c02fb55956c7d316");

  @Test
  void documentHasEc2FieldOrderAndLayout() {
    // The layout of documents captured from EC2 instances in 2021 and 2022: this field order,
    // two-space indentation, " : " separators, and no newline after the closing brace.
    String expected = """
        {
          "accountId" : "628783029487",
          "architecture" : "x86_64",
          "availabilityZone" : "us-east-1a",
          "billingProducts" : null,
          "devpayProductCodes" : null,
          "marketplaceProductCodes" : null,
          "imageId" : "ami-0c02fb55956c7d316",
          "instanceId" : "i-076e9b91f7c420782",
          "instanceType" : "t2.micro",
          "kernelId" : null,
          "pendingTime" : "2022-03-25T20:07:16Z",
          "privateIp" : "172.31.84.238",
          "ramdiskId" : null,
          "region" : "us-east-1",
          "version" : "2017-09-30"
        }""";

    assertThat(new String(INSTANCE.document(), StandardCharsets.UTF_8)).isEqualTo(expected);
  }

  @Test
  void documentIsSameBytesOnEveryCall() {
    assertThat(INSTANCE.document()).isEqualTo(INSTANCE.document());
  }

  @Test
  void pendingTimeIsTruncatedToSeconds() {
    assertThat(INSTANCE.pendingTime()).isEqualTo(Instant.parse("2022-03-25T20:07:16Z"));
  }

  @ParameterizedTest
  @CsvSource({
      "us-east-1, 10.0.0.1, ip-10-0-0-1.ec2.internal",
      "us-west-2, 10.0.0.1, ip-10-0-0-1.us-west-2.compute.internal",
      "eu-central-1, 172.31.84.238, ip-172-31-84-238.eu-central-1.compute.internal",
      "us-gov-west-1, 10.20.30.40, ip-10-20-30-40.us-gov-west-1.compute.internal",
  })
  void localHostnameFollowsEc2IpName(String region, String privateIp, String expected) {
    AwsInstance instance = new AwsInstance("111122223333", region, "i-0123456789abcdef0",
        privateIp, Instant.EPOCH, "t3.micro", "ami-0123456789abcdef0");

    assertThat(instance.localHostname()).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
      "accountId    | 11112222333       | accountId '11112222333' is invalid, expected 12 digits",
      "accountId    | 11112222333a      | accountId '11112222333a' is invalid",
      "region       | US-EAST-1         | region 'US-EAST-1' is invalid",
      "region       | useast1           | region 'useast1' is invalid",
      "instanceId   | i-123             | instanceId 'i-123' is invalid",
      "instanceId   | x-0123456789abcdef0 | instanceId 'x-0123456789abcdef0' is invalid",
      "privateIp    | 10.0.0.256        | privateIp '10.0.0.256' is invalid",
      "privateIp    | fd00::1           | privateIp 'fd00::1' is invalid",
      "instanceType | t3 micro          | instanceType 't3 micro' is invalid",
      "imageId      | ami-XYZ           | imageId 'ami-XYZ' is invalid",
  })
  void constructorRejectsInvalidValue(String field, String value, String message) {
    assertThatThrownBy(() -> withField(field, value))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("aws-instance: " + message);
  }

  @Test
  void randomInstanceHasEc2Formats() {
    AwsInstance instance = AwsInstance.random("111122223333", "eu-west-1");

    assertThat(instance.accountId()).isEqualTo("111122223333");
    assertThat(instance.region()).isEqualTo("eu-west-1");
    assertThat(instance.instanceId()).matches("i-[0-9a-f]{17}");
    assertThat(instance.imageId()).matches("ami-[0-9a-f]{17}");
    assertThat(instance.privateIp()).matches("10\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}");
    assertThat(instance.privateIp()).doesNotEndWith(".0").doesNotEndWith(".255");
    assertThat(instance.instanceType()).isEqualTo(AwsInstance.DEFAULT_INSTANCE_TYPE);
    assertThat(instance.pendingTime().getNano()).isZero();
  }

  @Test
  void randomInstancesDiffer() {
    AwsInstance first = AwsInstance.random("111122223333", "us-east-1");
    AwsInstance second = AwsInstance.random("111122223333", "us-east-1");

    assertThat(first.instanceId()).isNotEqualTo(second.instanceId());
  }

  private static AwsInstance withField(String field, String value) {
    return new AwsInstance(
        field.equals("accountId") ? value : "111122223333",
        field.equals("region") ? value : "us-east-1",
        field.equals("instanceId") ? value : "i-0123456789abcdef0",
        field.equals("privateIp") ? value : "10.0.0.1",
        Instant.EPOCH,
        field.equals("instanceType") ? value : "t3.micro",
        field.equals("imageId") ? value : "ami-0123456789abcdef0");
  }
}
