package io.iidca.ca.aws;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/** Builds instance identity documents in the layout that EC2 serves, for synthetic tests. */
final class Documents {

  private Documents() {}

  /** Returns the fields of a valid us-east-1 document as raw JSON values, in EC2's order. */
  static Map<String, String> fields() {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("accountId", "\"111122223333\"");
    fields.put("architecture", "\"x86_64\"");
    fields.put("availabilityZone", "\"us-east-1a\"");
    fields.put("billingProducts", "null");
    fields.put("devpayProductCodes", "null");
    fields.put("marketplaceProductCodes", "null");
    fields.put("imageId", "\"ami-0123456789abcdef0\"");
    fields.put("instanceId", "\"i-0123456789abcdef0\"");
    fields.put("instanceType", "\"t3.micro\"");
    fields.put("kernelId", "null");
    fields.put("pendingTime", "\"2024-05-01T10:00:00Z\"");
    fields.put("privateIp", "\"10.0.0.1\"");
    fields.put("ramdiskId", "null");
    fields.put("region", "\"us-east-1\"");
    fields.put("version", "\"2017-09-30\"");
    return fields;
  }

  /** Returns a valid document for {@code region} with zone {@code <region>a}. */
  static byte[] inRegion(String region) {
    Map<String, String> fields = fields();
    fields.put("region", "\"" + region + "\"");
    fields.put("availabilityZone", "\"" + region + "a\"");
    return json(fields);
  }

  /** Renders raw JSON values as EC2 does: two-space indent, " : " and no final newline. */
  static byte[] json(Map<String, String> fields) {
    String body = fields.entrySet().stream()
        .map(e -> "  \"" + e.getKey() + "\" : " + e.getValue())
        .collect(Collectors.joining(",\n"));
    return ("{\n" + body + "\n}").getBytes(StandardCharsets.UTF_8);
  }
}
