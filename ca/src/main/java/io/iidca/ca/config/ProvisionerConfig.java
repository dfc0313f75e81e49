package io.iidca.ca.config;

import io.iidca.ca.policy.NamePolicy;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One provisioner: a named way for a cloud's instances to prove their identity, with the
 * restrictions and the certificate options that apply to them.
 *
 * @param instanceAge maximum time since the instance started, or null for no limit
 * @param awsAccounts AWS account ids allowed to enroll; at least one for type AWS
 * @param awsSignatureForms metadata signature forms accepted: rsa2048, signature, pkcs7
 * @param awsCertificates additional PEM files, relative to the iidca path, whose certificates
 *     are trusted beside AWS's published ones
 * @param disableRenewal refuse renewal: instances enroll again with their identity instead
 * @param allowRenewalAfterExpiry renew a certificate that has expired, as long as it is not
 *     revoked
 * @param reattestAfter time after the last identity check beyond which renewal is refused and
 *     the instance must present a fresh identity document; null for no limit
 * @param allowRestartedInstances let a registered instance enroll once more after each start
 *     (a newer start time in its identity document) instead of refusing it
 * @param namePolicy allow and deny lists for the names of this provisioner's certificates,
 *     which apply beside the CA's; {@link NamePolicy#NONE} when null
 */
public record ProvisionerConfig(
    String name,
    String type,
    Lifetime lifetime,
    boolean disableCustomSans,
    boolean disableTrustOnFirstUse,
    Duration instanceAge,
    List<String> awsAccounts,
    List<String> awsSignatureForms,
    List<String> awsCertificates,
    boolean disableRenewal,
    boolean allowRenewalAfterExpiry,
    Duration reattestAfter,
    boolean allowRestartedInstances,
    NamePolicy namePolicy) {

  public static final String TYPE_AWS = "AWS";
  public static final Set<String> TYPES = Set.of(TYPE_AWS);
  public static final List<String> AWS_FORMS = List.of("rsa2048", "signature", "pkcs7");
  public static final List<String> DEFAULT_AWS_FORMS = List.of("rsa2048", "signature");

  public ProvisionerConfig {
    awsAccounts = List.copyOf(awsAccounts);
    awsSignatureForms = List.copyOf(awsSignatureForms);
    awsCertificates = List.copyOf(awsCertificates);
    namePolicy = namePolicy == null ? NamePolicy.NONE : namePolicy;
  }

  /** A provisioner without a name policy. */
  public ProvisionerConfig(String name, String type, Lifetime lifetime, boolean disableCustomSans,
      boolean disableTrustOnFirstUse, Duration instanceAge, List<String> awsAccounts,
      List<String> awsSignatureForms, List<String> awsCertificates, boolean disableRenewal,
      boolean allowRenewalAfterExpiry, Duration reattestAfter, boolean allowRestartedInstances) {
    this(name, type, lifetime, disableCustomSans, disableTrustOnFirstUse, instanceAge,
        awsAccounts, awsSignatureForms, awsCertificates, disableRenewal,
        allowRenewalAfterExpiry, reattestAfter, allowRestartedInstances, NamePolicy.NONE);
  }

  /** A provisioner with the default renewal and restart options and no name policy. */
  public ProvisionerConfig(String name, String type, Lifetime lifetime, boolean disableCustomSans,
      boolean disableTrustOnFirstUse, Duration instanceAge, List<String> awsAccounts,
      List<String> awsSignatureForms, List<String> awsCertificates) {
    this(name, type, lifetime, disableCustomSans, disableTrustOnFirstUse, instanceAge,
        awsAccounts, awsSignatureForms, awsCertificates, false, false, null, false,
        NamePolicy.NONE);
  }

  /** A new AWS provisioner with default options. */
  public static ProvisionerConfig aws(String name, List<String> accounts) {
    return new ProvisionerConfig(name, TYPE_AWS, Lifetime.DEFAULT, false, false, null, accounts,
        DEFAULT_AWS_FORMS, List.of());
  }

  /** Normalizes a type as typed by a user: {@code aws} and {@code AWS} are the same type. */
  public static String normalizeType(String type) {
    String upper = type.trim().toUpperCase(Locale.ROOT);
    if (!TYPES.contains(upper)) {
      throw new ConfigException("type", type, "supported types are " + TYPES);
    }
    return upper;
  }

  /**
   * Validates the provisioner.
   *
   * @param key the YAML key of this provisioner, used in messages
   * @throws ConfigException naming the key and the value
   */
  public ProvisionerConfig validate(String key) {
    if (name == null || name.isBlank()) {
      throw new ConfigException(key + ".name", name, "a provisioner needs a name");
    }
    if (name.contains("#") || name.chars().anyMatch(Character::isISOControl)) {
      throw new ConfigException(key + ".name", name,
          "must not contain '#' or control characters, because it is part of token audiences");
    }
    if (type == null || !TYPES.contains(type)) {
      throw new ConfigException(key + ".type", type, "supported types are " + TYPES);
    }
    lifetime.validate(key + ".lifetime");
    if (instanceAge != null && (instanceAge.isNegative() || instanceAge.isZero())) {
      throw new ConfigException(key + ".instanceAge", Durations.format(instanceAge),
          "must be positive");
    }
    if (reattestAfter != null && (reattestAfter.isNegative() || reattestAfter.isZero())) {
      throw new ConfigException(key + ".reattestAfter", Durations.format(reattestAfter),
          "must be positive");
    }
    validateAws(key);
    namePolicy.validate(key + ".namePolicy");
    return this;
  }

  private void validateAws(String key) {
    if (awsAccounts.isEmpty()) {
      throw new ConfigException(key + ".awsAccounts", null,
          "an AWS provisioner needs at least one account id (--aws-account), otherwise every "
              + "AWS account could enroll");
    }
    for (String account : awsAccounts) {
      if (!account.matches("\\d{12}")) {
        throw new ConfigException(key + ".awsAccounts", account,
            "an AWS account id is 12 digits");
      }
    }
    if (awsSignatureForms.isEmpty()) {
      throw new ConfigException(key + ".awsSignatureForms", null,
          "name at least one of " + AWS_FORMS);
    }
    for (String form : awsSignatureForms) {
      if (!AWS_FORMS.contains(form)) {
        throw new ConfigException(key + ".awsSignatureForms", form, "accepted forms are "
            + AWS_FORMS);
      }
    }
  }
}
