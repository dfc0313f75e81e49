package io.iidca.ca.config;

import java.util.List;
import java.util.Locale;

/**
 * The tenant, restrictions and key sources of an Azure provisioner, under {@code azure:} in its
 * YAML.
 *
 * <p>The managed-identity token is described in "How to use managed identities for Azure
 * resources on an Azure VM to acquire an access token" and the attested document in "Azure
 * Instance Metadata Service" (learn.microsoft.com), both as of 2026.
 *
 * @param tenantId the Microsoft Entra tenant id (a GUID) whose tokens are accepted
 * @param cloud the Azure cloud: {@code AzurePublicCloud}, {@code AzureUSGovernmentCloud} or
 *     {@code AzureChinaCloud}, which sets the default audience, issuer and signer names
 * @param audience the token audience required, null for the cloud's Resource Manager URL
 * @param subscriptionIds subscriptions whose VMs may enroll; empty allows any in the tenant
 * @param resourceGroups resource groups whose VMs may enroll, compared without case; empty
 *     allows any
 * @param objectIds object ids (the {@code oid} claim) of the managed identities that may enroll;
 *     empty allows any
 * @param openIdConfigUrl the tenant's OpenID configuration URL, null for the cloud's login host
 * @param requireAttestation accept a request only with an attested document over a CA nonce
 * @param roots extra PEM files, relative to the iidca path, whose certificates are trusted as
 *     roots for attested documents beside Microsoft's
 */
public record AzureOptions(
    String tenantId,
    String cloud,
    String audience,
    List<String> subscriptionIds,
    List<String> resourceGroups,
    List<String> objectIds,
    String openIdConfigUrl,
    boolean requireAttestation,
    List<String> roots) {

  public static final String PUBLIC_CLOUD = "AzurePublicCloud";
  public static final String US_GOVERNMENT_CLOUD = "AzureUSGovernmentCloud";
  public static final String CHINA_CLOUD = "AzureChinaCloud";
  public static final List<String> CLOUDS =
      List.of(PUBLIC_CLOUD, US_GOVERNMENT_CLOUD, CHINA_CLOUD);

  private static final String GUID =
      "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

  public AzureOptions {
    cloud = cloud == null ? PUBLIC_CLOUD : cloud;
    subscriptionIds = List.copyOf(subscriptionIds);
    resourceGroups = List.copyOf(resourceGroups);
    objectIds = List.copyOf(objectIds);
    roots = List.copyOf(roots);
  }

  /** Options for a tenant in the public cloud with the defaults. */
  public static AzureOptions tenant(String tenantId) {
    return new AzureOptions(tenantId, PUBLIC_CLOUD, null, List.of(), List.of(), List.of(), null,
        false, List.of());
  }

  /**
   * Returns the audience required: the configured one, or the Resource Manager URL of the
   * cloud, which is the resource the client requests its managed-identity token for.
   */
  public String effectiveAudience() {
    if (audience != null) {
      return audience;
    }
    return switch (cloud) {
      case US_GOVERNMENT_CLOUD -> "https://management.usgovcloudapi.net/";
      case CHINA_CLOUD -> "https://management.chinacloudapi.cn/";
      default -> "https://management.azure.com/";
    };
  }

  /** Returns the login host of the cloud, where the tenant's OpenID configuration lives. */
  public String loginHost() {
    return switch (cloud) {
      case US_GOVERNMENT_CLOUD -> "login.microsoftonline.us";
      case CHINA_CLOUD -> "login.chinacloudapi.cn";
      default -> "login.microsoftonline.com";
    };
  }

  /** Returns the OpenID configuration URL: the configured one or the tenant's on the login host. */
  public String effectiveOpenIdConfigUrl() {
    if (openIdConfigUrl != null) {
      return openIdConfigUrl;
    }
    return "https://" + loginHost() + "/" + tenantId.toLowerCase(Locale.ROOT)
        + "/.well-known/openid-configuration";
  }

  /**
   * Validates the options.
   *
   * @param key the YAML key of these options, such as {@code provisioners[0].azure}
   */
  public void validate(String key) {
    if (tenantId == null || !tenantId.matches(GUID)) {
      throw new ConfigException(key + ".tenantId", tenantId, "an Azure provisioner needs the"
          + " tenant id, a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47 (--azure-tenant)");
    }
    if (!CLOUDS.contains(cloud)) {
      throw new ConfigException(key + ".cloud", cloud, "supported clouds are " + CLOUDS);
    }
    for (String subscription : subscriptionIds) {
      if (!subscription.matches(GUID)) {
        throw new ConfigException(key + ".subscriptionIds", subscription,
            "a subscription id is a GUID");
      }
    }
    for (String objectId : objectIds) {
      if (!objectId.matches(GUID)) {
        throw new ConfigException(key + ".objectIds", objectId, "an object id is a GUID");
      }
    }
    for (String group : resourceGroups) {
      // Resource group names: 1 to 90 letters, digits, '.', '_', '-', '(', ')'; no final '.'.
      if (!group.matches("[\\p{L}\\p{N}._()-]{1,90}") || group.endsWith(".")) {
        throw new ConfigException(key + ".resourceGroups", group,
            "a resource group name is 1 to 90 letters, digits, '.', '_', '-', '(' or ')'");
      }
    }
    if (audience != null && audience.isBlank()) {
      throw new ConfigException(key + ".audience", audience, "must not be blank");
    }
    if (openIdConfigUrl != null) {
      GcpOptions.checkHttpsUrl(key + ".openIdConfigUrl", openIdConfigUrl);
    }
    for (String root : roots) {
      if (root == null || root.isBlank()) {
        throw new ConfigException(key + ".roots", root,
            "must name a PEM file, relative to the iidca path, of extra attested-document roots");
      }
    }
  }
}
