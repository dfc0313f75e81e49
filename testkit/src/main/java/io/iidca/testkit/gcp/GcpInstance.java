package io.iidca.testkit.gcp;

import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One emulated Compute Engine instance and the service account its identity tokens name.
 *
 * <p>The constructor checks the format of every value as Compute Engine documents it: a project
 * id of 6 to 30 lowercase letters, digits and hyphens, a zone such as {@code us-central1-a}, a
 * numeric instance id, and an instance name that is an RFC 1035 label. It does not check that
 * a zone exists. Immutable and thread-safe.
 *
 * @param serviceAccountId the service account's numeric unique id, the tokens' {@code sub} and
 *     {@code azp}
 * @param creationTime the instance's creation time, in whole seconds
 */
public record GcpInstance(
    String projectId,
    long projectNumber,
    String zone,
    String instanceId,
    String instanceName,
    Instant creationTime,
    String serviceAccountEmail,
    String serviceAccountId) {

  private static final Pattern PROJECT_ID = Pattern.compile("[a-z][a-z0-9-]{4,28}[a-z0-9]");
  private static final Pattern ZONE = Pattern.compile("[a-z]+-[a-z]+[0-9]+-[a-z]");
  private static final Pattern NUMERIC = Pattern.compile("[0-9]{1,20}");
  private static final Pattern ACCOUNT_ID = Pattern.compile("[0-9]{1,30}");
  private static final Pattern NAME = Pattern.compile("[a-z]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern EMAIL = Pattern.compile("[^@\\s\"]+@[^@\\s\"]+");
  private static final SecureRandom RANDOM = new SecureRandom();

  /**
   * Checks every value and truncates the creation time to whole seconds, as the token's
   * {@code instance_creation_timestamp} has it.
   *
   * @throws IllegalArgumentException naming the field and the value when a value has the wrong
   *     format
   */
  public GcpInstance {
    check("projectId", projectId, PROJECT_ID, "6 to 30 lowercase letters, digits and hyphens");
    check("zone", zone, ZONE, "a zone such as us-central1-a");
    check("instanceId", instanceId, NUMERIC, "a decimal number");
    check("instanceName", instanceName, NAME, "an RFC 1035 label such as web-1");
    check("serviceAccountEmail", serviceAccountEmail, EMAIL, "an email address");
    check("serviceAccountId", serviceAccountId, ACCOUNT_ID, "a decimal number");
    if (projectNumber <= 0) {
      throw new IllegalArgumentException(
          "gcp-instance: projectNumber " + projectNumber + " is invalid, expected a positive"
              + " number");
    }
    creationTime = Objects.requireNonNull(creationTime, "creationTime")
        .truncatedTo(ChronoUnit.SECONDS);
  }

  /**
   * Creates an instance with random numbers, named {@code instance-1}, created now, with the
   * project's Compute Engine default service account.
   */
  public static GcpInstance random(String projectId, String zone) {
    long projectNumber = 100_000_000_000L + RANDOM.nextLong(900_000_000_000L);
    return new GcpInstance(projectId, projectNumber, zone, randomDigits(19), "instance-1",
        Instant.now(), projectNumber + "-compute@developer.gserviceaccount.com",
        randomDigits(21));
  }

  /** Returns the zone path as the metadata server serves it: {@code projects/N/zones/Z}. */
  public String zonePath() {
    return "projects/" + projectNumber + "/zones/" + zone;
  }

  /** Returns the zonal internal DNS name, {@code NAME.ZONE.c.PROJECT.internal}. */
  public String hostname() {
    return instanceName + "." + zone + ".c." + projectId + ".internal";
  }

  private static String randomDigits(int count) {
    StringBuilder digits = new StringBuilder().append(1 + RANDOM.nextInt(9));
    while (digits.length() < count) {
      digits.append(RANDOM.nextInt(10));
    }
    return digits.toString();
  }

  private static void check(String field, String value, Pattern pattern, String expected) {
    Objects.requireNonNull(value, field);
    if (!pattern.matcher(value).matches()) {
      throw new IllegalArgumentException(
          "gcp-instance: " + field + " '" + value + "' is invalid, expected " + expected);
    }
  }
}
