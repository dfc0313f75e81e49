package io.iidca.ca.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.config.AzureOptions;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.provisioner.AzureProvisioner;
import io.iidca.ca.provisioner.VerifiedIdentity;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Azure provisioner: token, attested document, nonce, and the identity it returns. */
class AzureProvisionerTest {

  private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
  private static final String VM_ID = "5d06deb3-807b-46dd-aef5-78aaf9193f71";
  private static final DateTimeFormatter IMDS_TIME =
      DateTimeFormatter.ofPattern("MM/dd/yy HH:mm:ss '-0000'").withZone(ZoneOffset.UTC);

  private static TestTenant tenant;
  private static AzureTestPki pki;
  private static AzureTestPki untrusted;
  private MemoryNonces nonces;

  /** Nonces in memory, with the store's semantics. */
  static final class MemoryNonces implements NonceStore {
    final Map<String, Instant> issued = new HashMap<>();
    private int next = 1_000_000_000;

    @Override
    public synchronized String issueNonce(String provisioner, Instant expiresAt) {
      String nonce = Integer.toString(next++);
      issued.put(provisioner + "/" + nonce, expiresAt);
      return nonce;
    }

    @Override
    public synchronized boolean consumeNonce(String provisioner, String nonce, Instant now) {
      Instant expiry = issued.remove(provisioner + "/" + nonce);
      return expiry != null && expiry.isAfter(now);
    }

    @Override
    public synchronized int purgeExpiredNonces(Instant now) {
      int before = issued.size();
      issued.values().removeIf(expiry -> !expiry.isAfter(now));
      return before - issued.size();
    }
  }

  @BeforeAll
  static void startTenant() throws Exception {
    tenant = new TestTenant();
    pki = AzureTestPki.generate("metadata.azure.com");
    untrusted = AzureTestPki.generate("metadata.azure.com");
  }

  @AfterAll
  static void stopTenant() {
    tenant.close();
  }

  @BeforeEach
  void newNonces() {
    nonces = new MemoryNonces();
  }

  private AzureProvisioner provisioner(boolean requireAttestation) {
    AzureOptions options = new AzureOptions(TestTenant.TENANT, AzureOptions.PUBLIC_CLOUD, null,
        List.of(), List.of(), List.of(), tenant.openIdConfigUrl().toString(),
        requireAttestation, List.of());
    TenantKeys keys = new TenantKeys(tenant.openIdConfigUrl(), TestTenant.TENANT,
        TenantKeys.defaultClient(), Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofMinutes(5),
        Duration.ofSeconds(10));
    return new AzureProvisioner(ProvisionerConfig.azure("azure-prod", options), keys,
        AttestedDocumentVerifier.forCloud(AzureOptions.PUBLIC_CLOUD,
            List.of(pki.root, pki.intermediate)),
        nonces);
  }

  private static String document(AzureTestPki signer, String nonce, String vmId,
      String subscription) throws Exception {
    return signer.sign(AzureTestPki.content(nonce, vmId, subscription,
        IMDS_TIME.format(NOW.minusSeconds(30)), IMDS_TIME.format(NOW.plus(Duration.ofHours(6)))));
  }

  private String token() throws Exception {
    return tenant.sign(TestTenant.claims(NOW).build());
  }

  private String nonce() {
    return nonces.issueNonce("azure-prod", NOW.plus(Duration.ofMinutes(5)));
  }

  @Test
  void attestedEnrollmentIsVerified() throws Exception {
    String token = token();
    String nonce = nonce();

    VerifiedIdentity identity = provisioner(true).verify(token,
        document(pki, nonce, VM_ID, TestTenant.SUBSCRIPTION), NOW);

    assertThat(identity.provisionerType()).isEqualTo("Azure");
    assertThat(identity.provisioner()).isEqualTo("azure-prod");
    assertThat(identity.instanceId()).isEqualTo("vm:" + VM_ID);
    assertThat(identity.account()).isEqualTo(TestTenant.SUBSCRIPTION);
    assertThat(identity.region()).isEqualTo("web-rg");
    assertThat(identity.pendingTime()).isNull();
    assertThat(identity.vouchedNames()).containsExactly("web-1");
    assertThat(identity.subject()).isEqualTo("web-1");
    assertThat(identity.tokenSans()).isNull();
    assertThat(identity.tokenId()).isEqualTo("nonce:" + nonce);
    assertThat(identity.tokenExpiry()).isEqualTo(NOW.plusSeconds(86_400));
    assertThat(nonces.issued).isEmpty();
  }

  @Test
  void tokenOnlyEnrollmentUsesResourceId() throws Exception {
    VerifiedIdentity identity = provisioner(false).verify(token(), null, NOW);

    assertThat(identity.instanceId()).isEqualTo("mirid:" + TestTenant.MIRID.toLowerCase());
    assertThat(identity.vouchedNames()).containsExactly("web-1");
  }

  @Test
  void userAssignedIdentityVouchesForNoName() throws Exception {
    String token = tenant.sign(TestTenant.claims(NOW).claim("xms_mirid", "/subscriptions/"
        + TestTenant.SUBSCRIPTION + "/resourcegroups/ids/providers/"
        + "Microsoft.ManagedIdentity/userAssignedIdentities/app").build());

    VerifiedIdentity identity = provisioner(false).verify(token, null, NOW);

    assertThat(identity.vouchedNames()).isEmpty();
    assertThat(identity.subject()).isEqualTo(TestTenant.OBJECT_ID);
    assertThat(identity.region()).isEqualTo("ids");
  }

  @Test
  void scaleSetVmIsNamedBySetAndInstance() throws Exception {
    String token = tenant.sign(TestTenant.claims(NOW).claim("xms_mirid", "/subscriptions/"
        + TestTenant.SUBSCRIPTION + "/resourceGroups/rg/providers/Microsoft.Compute/"
        + "virtualMachineScaleSets/web/virtualMachines/7").build());

    assertThat(provisioner(false).verify(token, null, NOW).vouchedNames())
        .containsExactly("web_7");
  }

  @Test
  void requiredAttestationWithoutDocumentIsRejected() throws Exception {
    String token = token();

    assertThatThrownBy(() -> provisioner(true).verify(token, null, NOW))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("requires an attested document");
  }

  @Test
  void unknownNonceIsRejected() throws Exception {
    String token = token();
    String document = document(pki, "1234567890", VM_ID, TestTenant.SUBSCRIPTION);

    assertThatThrownBy(() -> provisioner(true).verify(token, document, NOW))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("nonce 1234567890 is unknown, used or expired");
  }

  @Test
  void reusedNonceIsRejected() throws Exception {
    String token = token();
    String document = document(pki, nonce(), VM_ID, TestTenant.SUBSCRIPTION);
    AzureProvisioner provisioner = provisioner(true);
    provisioner.verify(token, document, NOW);

    assertThatThrownBy(() -> provisioner.verify(token, document, NOW))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("is unknown, used or expired");
  }

  @Test
  void expiredNonceIsRejected() throws Exception {
    String token = token();
    String nonce = nonces.issueNonce("azure-prod", NOW.minusSeconds(1));
    String document = document(pki, nonce, VM_ID, TestTenant.SUBSCRIPTION);

    assertThatThrownBy(() -> provisioner(true).verify(token, document, NOW))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("nonce " + nonce + " is unknown, used or expired");
  }

  @Test
  void nonceOfOtherProvisionerIsRejected() throws Exception {
    String token = token();
    String nonce = nonces.issueNonce("azure-other", NOW.plusSeconds(300));
    String document = document(pki, nonce, VM_ID, TestTenant.SUBSCRIPTION);

    assertThatThrownBy(() -> provisioner(true).verify(token, document, NOW))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("is unknown, used or expired");
  }

  @Test
  void subscriptionMismatchIsRejectedAndKeepsNonce() throws Exception {
    String token = token();
    String nonce = nonce();
    String document = document(pki, nonce, VM_ID, "ffffffff-0000-4000-8000-000000000000");

    assertThatThrownBy(() -> provisioner(true).verify(token, document, NOW))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("subscriptionId ffffffff-0000-4000-8000-000000000000 differs"
            + " from the token's subscription " + TestTenant.SUBSCRIPTION);
    assertThat(nonces.issued).containsKey("azure-prod/" + nonce);
  }

  @Test
  void malformedVmIdIsRejected() throws Exception {
    String token = token();
    String document = document(pki, nonce(), "some-vm", TestTenant.SUBSCRIPTION);

    assertThatThrownBy(() -> provisioner(true).verify(token, document, NOW))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("vmId 'some-vm' is not a GUID");
  }

  @Test
  void untrustedChainIsRejectedAndKeepsNonce() throws Exception {
    String token = token();
    String nonce = nonce();
    String document = document(untrusted, nonce, VM_ID, TestTenant.SUBSCRIPTION);

    assertThatThrownBy(() -> provisioner(true).verify(token, document, NOW))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("no valid path to a trusted root");
    assertThat(nonces.issued).containsKey("azure-prod/" + nonce);
  }

  @Test
  void forgedTokenKeepsNonce() throws Exception {
    String nonce = nonce();
    String document = document(pki, nonce, VM_ID, TestTenant.SUBSCRIPTION);
    String forged = TestTenant.sign(TestTenant.claims(NOW).build(), tenant.keyId,
        (java.security.interfaces.RSAPrivateKey) AzureTestPki.rsa().getPrivate());

    assertThatThrownBy(() -> provisioner(true).verify(forged, document, NOW))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("signature does not verify");
    assertThat(nonces.issued).containsKey("azure-prod/" + nonce);
  }

  @Test
  void wrongSignerNameIsRejected() throws Exception {
    AzureTestPki other = AzureTestPki.generate("eastus.metadata.azure.com");
    AttestedDocumentVerifier verifier =
        AttestedDocumentVerifier.forCloud(AzureOptions.PUBLIC_CLOUD,
            List.of(other.root, other.intermediate));
    String document = document(other, "1234567890", VM_ID, TestTenant.SUBSCRIPTION);

    assertThatThrownBy(() -> verifier.verify(document, NOW))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("is not metadata.azure.com");
  }

  @Test
  void chainNotToMicrosoftIsRejectedByDefault() throws Exception {
    AttestedDocumentVerifier verifier =
        AttestedDocumentVerifier.forCloud(AzureOptions.PUBLIC_CLOUD, List.of());
    String document = document(pki, "1234567890", VM_ID, TestTenant.SUBSCRIPTION);

    assertThatThrownBy(() -> verifier.verify(document, NOW))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("issued by CN=Test Azure Issuing CA has no valid path");
  }
}
