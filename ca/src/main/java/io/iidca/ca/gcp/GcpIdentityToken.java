package io.iidca.ca.gcp;

import com.nimbusds.jwt.JWTClaimsSet;
import io.iidca.ca.error.IdentityRejectedException;
import java.text.ParseException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The claims of a verified Compute Engine instance identity token in its {@code format=full}
 * form, as Google documents them in "Verifying the identity of instances"
 * (cloud.google.com/compute/docs/instances/verifying-instance-identity).
 *
 * <p>{@link #fromClaims} only reads and checks the shape of the claims; {@link GcpTokenVerifier}
 * checks the signature, issuer, audience and times before it calls it. Immutable.
 *
 * @param token the compact serialization, exactly as received
 * @param subject the service account's numeric id ({@code sub})
 * @param authorizedParty the {@code azp} claim, the same numeric id in Google's tokens, or null
 * @param email the service account's email, or null when absent or {@code email_verified} is
 *     not true
 * @param computeEngine the {@code google.compute_engine} claims
 */
public record GcpIdentityToken(
    String token,
    String issuer,
    String audience,
    String subject,
    String authorizedParty,
    String email,
    Instant issuedAt,
    Instant expiresAt,
    ComputeEngine computeEngine) {

  /**
   * The {@code google.compute_engine} claims that name the instance.
   *
   * @param projectId the project id, such as {@code my-project-123}, or for a legacy
   *     domain-scoped project {@code example.com:my-project}
   * @param instanceName the instance name, an RFC 1035 label
   * @param instanceCreation when the instance was created, in whole seconds
   * @param licenseIds the {@code license_id} values, empty unless the token was requested with
   *     {@code licenses=TRUE}
   */
  public record ComputeEngine(
      String projectId,
      long projectNumber,
      String zone,
      String instanceId,
      String instanceName,
      Instant instanceCreation,
      List<String> licenseIds) {

    public ComputeEngine {
      licenseIds = List.copyOf(licenseIds);
    }

    /** Returns whether the project is a legacy domain-scoped one ({@code example.com:p}). */
    public boolean isDomainScoped() {
      return projectId.contains(":");
    }
  }

  private static final Pattern PROJECT_ID =
      Pattern.compile("([a-z0-9][a-z0-9.-]{0,62}:)?[a-z][a-z0-9-]{4,28}[a-z0-9]");
  private static final Pattern ZONE = Pattern.compile("[a-z]+-[a-z]+[0-9]+-[a-z]");
  private static final Pattern INSTANCE_ID = Pattern.compile("[0-9]{1,20}");
  private static final Pattern INSTANCE_NAME = Pattern.compile("[a-z]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern NUMERIC_ID = Pattern.compile("[0-9]{1,30}");

  /**
   * Reads the claims of a token whose signature has been verified.
   *
   * @throws IdentityRejectedException naming the claim when a required claim is missing or has
   *     the wrong type or format; a token requested without {@code format=full} lacks
   *     {@code google.compute_engine}
   */
  public static GcpIdentityToken fromClaims(String token, JWTClaimsSet claims, String stage) {
    String subject = claims.getSubject();
    if (subject == null || !NUMERIC_ID.matcher(subject).matches()) {
      throw new IdentityRejectedException(stage, "token sub " + subject + " is not the numeric"
          + " id of a service account");
    }
    Object verified = claims.getClaim("email_verified");
    String email = Boolean.TRUE.equals(verified) && claims.getClaim("email") instanceof String e
        ? e : null;
    Object azp = claims.getClaim("azp");
    return new GcpIdentityToken(token, claims.getIssuer(), claims.getAudience().get(0),
        subject, azp instanceof String party ? party : null, email,
        claims.getIssueTime().toInstant(), claims.getExpirationTime().toInstant(),
        computeEngine(claims, stage));
  }

  private static ComputeEngine computeEngine(JWTClaimsSet claims, String stage) {
    Map<String, Object> google;
    try {
      google = claims.getJSONObjectClaim("google");
    } catch (ParseException e) {
      throw new IdentityRejectedException(stage, "token claim google is not a JSON object");
    }
    Object engine = google == null ? null : google.get("compute_engine");
    if (!(engine instanceof Map<?, ?> fields)) {
      throw new IdentityRejectedException(stage, "token has no google.compute_engine claim:"
          + " request the identity token with format=full");
    }
    ClaimReader reader = new ClaimReader(fields, stage);
    return new ComputeEngine(
        reader.text("project_id", PROJECT_ID),
        reader.number("project_number"),
        reader.text("zone", ZONE),
        reader.text("instance_id", INSTANCE_ID),
        reader.text("instance_name", INSTANCE_NAME),
        Instant.ofEpochSecond(reader.number("instance_creation_timestamp")),
        reader.textList("license_id"));
  }

  /** Reads typed values from {@code google.compute_engine}, rejecting missing ones. */
  private record ClaimReader(Map<?, ?> fields, String stage) {

    String text(String name, Pattern format) {
      Object value = fields.get(name);
      if (!(value instanceof String text) || !format.matcher(text).matches()) {
        throw invalid(name, value);
      }
      return text;
    }

    long number(String name) {
      Object value = fields.get(name);
      boolean integral = value instanceof Long || value instanceof Integer;
      if (!integral || ((Number) value).longValue() < 0) {
        throw invalid(name, value);
      }
      return ((Number) value).longValue();
    }

    List<String> textList(String name) {
      Object value = fields.get(name);
      if (value == null) {
        return List.of();
      }
      List<String> texts = new ArrayList<>();
      if (value instanceof List<?> list) {
        for (Object item : list) {
          if (!(item instanceof String text)) {
            throw invalid(name, value);
          }
          texts.add(text);
        }
        return texts;
      }
      throw invalid(name, value);
    }

    private IdentityRejectedException invalid(String name, Object value) {
      String reason = value == null
          ? "token has no google.compute_engine." + name + " claim"
          : "token claim google.compute_engine." + name + " has the invalid value " + value;
      return new IdentityRejectedException(stage, reason);
    }
  }
}
