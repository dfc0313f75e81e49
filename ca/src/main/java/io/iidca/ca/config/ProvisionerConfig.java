package io.iidca.ca.config;

import io.iidca.ca.policy.NamePolicy;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

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
 * @param gcp the options of a GCP provisioner; null for other types
 * @param azure the options of an Azure provisioner; null for other types
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
    NamePolicy namePolicy,
    GcpOptions gcp,
    AzureOptions azure) {

  public static final String TYPE_AWS = "AWS";
  public static final String TYPE_GCP = "GCP";
  public static final String TYPE_AZURE = "Azure";
  /** The types in step-ca's spelling, in the order that messages list them. */
  public static final List<String> TYPES = List.of(TYPE_AWS, TYPE_GCP, TYPE_AZURE);
  public static final List<String> AWS_FORMS = List.of("rsa2048", "signature", "pkcs7");
  public static final List<String> DEFAULT_AWS_FORMS = List.of("rsa2048", "signature");

  public ProvisionerConfig {
    awsAccounts = List.copyOf(awsAccounts);
    awsSignatureForms = List.copyOf(awsSignatureForms);
    awsCertificates = List.copyOf(awsCertificates);
    namePolicy = namePolicy == null ? NamePolicy.NONE : namePolicy;
  }

  /** A provisioner of a type without options of its own: AWS. */
  public ProvisionerConfig(String name, String type, Lifetime lifetime, boolean disableCustomSans,
      boolean disableTrustOnFirstUse, Duration instanceAge, List<String> awsAccounts,
      List<String> awsSignatureForms, List<String> awsCertificates, boolean disableRenewal,
      boolean allowRenewalAfterExpiry, Duration reattestAfter, boolean allowRestartedInstances,
      NamePolicy namePolicy) {
    this(name, type, lifetime, disableCustomSans, disableTrustOnFirstUse, instanceAge,
        awsAccounts, awsSignatureForms, awsCertificates, disableRenewal,
        allowRenewalAfterExpiry, reattestAfter, allowRestartedInstances, namePolicy, null, null);
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

  /** Creates a GCP provisioner with default options. */
  public static ProvisionerConfig gcp(String name, GcpOptions options) {
    return new ProvisionerConfig(name, TYPE_GCP, Lifetime.DEFAULT, false, false, null,
        List.of(), DEFAULT_AWS_FORMS, List.of(), false, false, null, false, NamePolicy.NONE,
        options, null);
  }

  /** Creates an Azure provisioner with default options. */
  public static ProvisionerConfig azure(String name, AzureOptions options) {
    return new ProvisionerConfig(name, TYPE_AZURE, Lifetime.DEFAULT, false, false, null,
        List.of(), DEFAULT_AWS_FORMS, List.of(), false, false, null, false, NamePolicy.NONE,
        null, options);
  }

  /**
   * Normalizes a type as typed by a user to step-ca's spelling: {@code aws}, {@code gcp} and
   * {@code AZURE} become {@code AWS}, {@code GCP} and {@code Azure}.
   */
  public static String normalizeType(String type) {
    String trimmed = type == null ? "" : type.trim();
    for (String known : TYPES) {
      if (known.equalsIgnoreCase(trimmed)) {
        return known;
      }
    }
    throw new ConfigException("type", type, "supported types are " + TYPES);
  }

  public boolean isAws() {
    return TYPE_AWS.equals(type);
  }

  public boolean isGcp() {
    return TYPE_GCP.equals(type);
  }

  public boolean isAzure() {
    return TYPE_AZURE.equals(type);
  }

  /** Returns the type in lower case as audiences and route names write it: aws, gcp, azure. */
  public String typeKey() {
    return type.toLowerCase(Locale.ROOT);
  }

  /** Returns a copy with other GCP options. */
  public ProvisionerConfig withGcp(GcpOptions options) {
    return new ProvisionerConfig(name, type, lifetime, disableCustomSans, disableTrustOnFirstUse,
        instanceAge, awsAccounts, awsSignatureForms, awsCertificates, disableRenewal,
        allowRenewalAfterExpiry, reattestAfter, allowRestartedInstances, namePolicy, options,
        azure);
  }

  /** Returns a copy with other Azure options. */
  public ProvisionerConfig withAzure(AzureOptions options) {
    return new ProvisionerConfig(name, type, lifetime, disableCustomSans, disableTrustOnFirstUse,
        instanceAge, awsAccounts, awsSignatureForms, awsCertificates, disableRenewal,
        allowRenewalAfterExpiry, reattestAfter, allowRestartedInstances, namePolicy, gcp,
        options);
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
    switch (type) {
      case TYPE_AWS -> validateAws(key);
      case TYPE_GCP -> {
        if (gcp == null) {
          throw new ConfigException(key + ".gcp", null, "a GCP provisioner needs its gcp"
              + " options: at least one project (--gcp-project) or service account");
        }
        gcp.validate(key + ".gcp");
      }
      default -> {
        if (azure == null) {
          throw new ConfigException(key + ".azure", null, "an Azure provisioner needs its"
              + " azure options: at least the tenant id (--azure-tenant)");
        }
        azure.validate(key + ".azure");
      }
    }
    if (!isAws() && !awsAccounts.isEmpty()) {
      throw new ConfigException(key + ".awsAccounts", awsAccounts,
          "only an AWS provisioner takes AWS accounts");
    }
    if (!isGcp() && gcp != null) {
      throw new ConfigException(key + ".gcp", type, "only a GCP provisioner takes gcp options");
    }
    if (!isAzure() && azure != null) {
      throw new ConfigException(key + ".azure", type,
          "only an Azure provisioner takes azure options");
    }
    if (allowRestartedInstances && !isAws()) {
      throw new ConfigException(key + ".allowRestartedInstances", true, "only AWS documents"
          + " carry the time of the instance's last start; for " + type + " reset the instance's"
          + " registration instead (iidca instance reset)");
    }
    if (instanceAge != null && isAzure()) {
      throw new ConfigException(key + ".instanceAge", Durations.format(instanceAge),
          "Azure tokens and attested documents carry no creation time of the VM");
    }
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
