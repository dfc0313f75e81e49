package io.iidca.ca.provisioner;

import io.iidca.ca.azure.AttestedDocument;
import io.iidca.ca.azure.AttestedDocumentVerifier;
import io.iidca.ca.azure.AzureToken;
import io.iidca.ca.azure.AzureTokenVerifier;
import io.iidca.ca.azure.NonceStore;
import io.iidca.ca.azure.ResourceId;
import io.iidca.ca.azure.TenantKeys;
import io.iidca.ca.azure.VerifiedAzureToken;
import io.iidca.ca.config.AzureOptions;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.pki.CaFiles;
import io.iidca.ca.pki.Pem;
import java.io.IOException;
import java.net.URI;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Verifies Azure enrollments for one provisioner: a managed-identity access token and, where
 * given or required, an attested document signed over a nonce that this CA issued.
 *
 * <p>Order: the token is verified completely ({@link AzureTokenVerifier}), then the attested
 * document ({@link AttestedDocumentVerifier}) and its agreement with the token (the document's
 * subscription equals the one in {@code xms_mirid}), and only then is the nonce consumed, so a
 * forged request never uses up a nonce. The nonce is single use across CA nodes through the
 * {@link NonceStore}.
 *
 * <p>The identity: instance id {@code vm:<vmId>} where the provisioner requires the document,
 * else {@code mirid:} and the lower-cased {@code xms_mirid} even when a document comes along, so
 * that trust on first use has one key per VM whichever proof a request brings. A user-assigned
 * identity names no VM, so without required documents all VMs that share it share one
 * registration; account = subscription id; region = resource group, because
 * Azure tokens carry no location and the resource group is the unit that restrictions name; no
 * pending time; the vouched name is the VM name of {@code xms_mirid} (none for a user-assigned
 * identity); subject = that name, else the object id; token expiry = {@code exp}. The token id
 * is {@code nonce:} and the document's nonce with a document, else {@code sha256:} and the hex
 * SHA-256 of the token with its signature in canonical base64url. IMDS hands out the same
 * cached token until it nears expiry, so a token alone enrolls once per token lifetime. With a
 * fresh nonce the same token can enroll again where trust on first use allows it:
 * re-enrollment with the current certificate, or after an operator reset.
 *
 * <p>NOTE: a managed-identity token carries no vmId, so the document's vmId cannot be compared
 * with the token. A document of another VM in the same subscription passes with a token of this
 * VM; the document proves only a fresh signature by Azure for some VM of that subscription.
 *
 * <p>Thread-safe.
 */
public final class AzureProvisioner {

  public static final String STAGE = AttestedDocumentVerifier.STAGE;

  private final ProvisionerConfig config;
  private final AzureTokenVerifier tokenVerifier;
  private final AttestedDocumentVerifier documentVerifier;
  private final NonceStore nonces;
  private final TenantKeys keys;

  public AzureProvisioner(ProvisionerConfig config, TenantKeys keys,
      AttestedDocumentVerifier documentVerifier, NonceStore nonces) {
    this.config = config;
    this.keys = keys;
    this.tokenVerifier = new AzureTokenVerifier(config.azure(), keys);
    this.documentVerifier = documentVerifier;
    this.nonces = nonces;
  }

  /**
   * Returns the provisioner for a configuration: the tenant's keys from its OpenID
   * configuration URL and the shipped attested-document roots plus {@code azure.roots}.
   *
   * @throws IllegalArgumentException if a roots file cannot be read
   */
  public static AzureProvisioner forConfig(ProvisionerConfig config, CaFiles files,
      NonceStore nonces) {
    return forConfig(config, files, nonces, Clock.systemUTC());
  }

  /**
   * Returns the provisioner for a configuration whose key cache measures its cache lifetime,
   * refetch interval and retry delay with {@code clock}, such as the CA's clock in tests.
   *
   * @throws IllegalArgumentException if a roots file cannot be read
   */
  public static AzureProvisioner forConfig(ProvisionerConfig config, CaFiles files,
      NonceStore nonces, Clock clock) {
    AzureOptions options = config.azure();
    return forConfig(config, files, nonces, TenantKeys.create(
        URI.create(options.effectiveOpenIdConfigUrl()), options.tenantId(), clock));
  }

  /**
   * Returns the provisioner for a configuration with the tenant's key cache {@code keys}, such
   * as that of the provisioner it replaces, and the roots read from their files again.
   *
   * @throws IllegalArgumentException if a roots file cannot be read
   */
  public static AzureProvisioner forConfig(ProvisionerConfig config, CaFiles files,
      NonceStore nonces, TenantKeys keys) {
    AzureOptions options = config.azure();
    List<X509Certificate> roots = new ArrayList<>();
    for (String file : options.roots()) {
      try {
        roots.addAll(Pem.readCertificates(files.resolve(file)));
      } catch (IOException | CertificateException e) {
        throw new IllegalArgumentException("provisioner " + config.name() + ": cannot read"
            + " azure.roots file " + files.resolve(file) + ": " + e.getMessage(), e);
      }
    }
    return new AzureProvisioner(config, keys,
        AttestedDocumentVerifier.forCloud(options.cloud(), roots), nonces);
  }

  public ProvisionerConfig config() {
    return config;
  }

  /** Returns the tenant's key cache, which a reload of an unchanged provisioner keeps. */
  public TenantKeys keys() {
    return keys;
  }

  /**
   * Verifies an enrollment as of {@code now}.
   *
   * @param attestedDocument the base64 PKCS#7 of the attested document, or null when absent
   * @throws IdentityRejectedException naming the failed check (for the audit log only)
   * @throws io.iidca.ca.error.UnavailableException if the tenant's keys or the store are
   *     unavailable
   */
  public VerifiedIdentity verify(String token, String attestedDocument, Instant now) {
    VerifiedAzureToken verified = tokenVerifier.verify(AzureToken.parse(token), now);
    AttestedDocument document = null;
    if (attestedDocument != null) {
      document = documentVerifier.verify(attestedDocument, now);
      verifyAgreement(verified, document);
      if (!nonces.consumeNonce(config.name(), document.nonce(), now)) {
        throw reject("attested document nonce " + document.nonce() + " is unknown, used or"
            + " expired; request a new one from POST /1.0/azure/nonce");
      }
    } else if (config.azure().requireAttestation()) {
      throw reject("provisioner " + config.name() + " requires an attested document, and the"
          + " request has none");
    }
    return identity(verified, document);
  }

  private static void verifyAgreement(VerifiedAzureToken token, AttestedDocument document) {
    String expected = token.resource().subscriptionId();
    if (document.subscriptionId() == null) {
      throw reject("attested document has no subscriptionId; request it with api-version"
          + " 2020-09-01 or later");
    }
    if (!document.subscriptionId().equals(expected)) {
      throw reject("attested document subscriptionId " + document.subscriptionId()
          + " differs from the token's subscription " + expected);
    }
    if (!document.vmId().matches("[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}")) {
      throw reject("attested document vmId '" + document.vmId() + "' is not a GUID");
    }
  }

  private VerifiedIdentity identity(VerifiedAzureToken token, AttestedDocument document) {
    ResourceId resource = token.resource();
    // One key per provisioner, whichever proof a request brings, so that a VM cannot enroll
    // once with a document and again with its token alone.
    String instanceId = config.azure().requireAttestation() ? "vm:" + document.vmId()
        : "mirid:" + resource.text().toLowerCase(Locale.ROOT);
    String vmName = resource.vmName();
    List<String> vouched = vmName == null ? List.of() : List.of(vmName);
    String subject = vmName != null ? vmName : token.objectId();
    String tokenId = document != null ? "nonce:" + document.nonce()
        : SignedTokenIds.of(token.token().jwt());
    return new VerifiedIdentity(ProvisionerConfig.TYPE_AZURE, config.name(), instanceId,
        resource.subscriptionId(), resource.resourceGroup(), null, vouched, subject, null,
        tokenId, token.expiry());
  }

  private static IdentityRejectedException reject(String reason) {
    return new IdentityRejectedException(STAGE, reason);
  }
}
