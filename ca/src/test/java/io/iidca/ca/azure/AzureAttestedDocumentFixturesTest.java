package io.iidca.ca.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.config.AzureOptions;
import io.iidca.ca.error.IdentityRejectedException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Real attested documents: accepted as of their own time, rejected altered or expired. */
class AzureAttestedDocumentFixturesTest {

  private static final AttestedDocumentVerifier VERIFIER =
      AttestedDocumentVerifier.forCloud(AzureOptions.PUBLIC_CLOUD, List.of());

  @ParameterizedTest
  @CsvSource({
      "taskcluster-wm-2019-12-13-itTLSCA4, 2019-12-13T00:33:40Z, 2019-12-13T06:33:40Z,"
          + " 5d06deb3-807b-46dd-aef5-78aaf9193f71, 1234567890, ''",
      "taskcluster-wm-2021-04-21-rsaTLSCA02, 2021-04-21T18:09:27Z, 2021-04-22T00:09:27Z,"
          + " fd776641-6588-4bad-9aaf-6c1ff20358bc, 20210422-000927,"
          + " fe7fd10a-bdc1-44b0-811e-94c4b4be754f",
      "taskcluster-wm-2023-01-05-azureTLSCA01, 2023-01-05T10:41:55Z, 2023-01-05T16:41:55Z,"
          + " f5b104d8-1987-40f5-bdcb-d38b97934106, 20230105-164155,"
          + " 5c5a6349-a52b-4e7f-ac78-3a62c211eda4",
      "taskcluster-wm-2025-04-23-azureRSATLSCA03, 2025-04-23T16:23:58Z, 2025-04-23T22:23:58Z,"
          + " f9cc27a0-2d12-40cf-adc9-7a676efec010, 20250423-222358,"
          + " 8a205152-b25a-417f-a676-80465535a6c9",
      "coder-azureidentity-regular-eastus-2026, 2026-06-25T18:56:45Z, 2026-06-26T00:56:45Z,"
          + " dc18de58-292f-4794-9a5d-a4192bad0039, 20260626-005645,"
          + " 05e8b285-4ce1-46a3-b4c9-f51ba67d6acc"})
  void realDocumentIsAcceptedAsOfCreation(String folder, Instant createdOn, Instant expiresOn,
      String vmId, String nonce, String subscriptionId) {
    AttestedDocument document = VERIFIER.verify(signature(folder), createdOn);

    assertThat(document.createdOn()).isEqualTo(createdOn);
    assertThat(document.expiresOn()).isEqualTo(expiresOn);
    assertThat(document.vmId()).isEqualTo(vmId);
    assertThat(document.nonce()).isEqualTo(nonce);
    assertThat(document.subscriptionId()).isEqualTo(subscriptionId.isEmpty() ? null
        : subscriptionId);
    assertThat(document.signer().getSubjectX500Principal().getName())
        .contains("CN=metadata.azure.com");
  }

  @ParameterizedTest
  @ValueSource(strings = {"taskcluster-wm-2019-12-13-itTLSCA4",
      "taskcluster-wm-2021-04-21-rsaTLSCA02", "taskcluster-wm-2023-01-05-azureTLSCA01",
      "taskcluster-wm-2025-04-23-azureRSATLSCA03", "coder-azureidentity-regular-eastus-2026"})
  void realDocumentIsRejectedAfterExpiresOn(String folder) {
    AttestedDocument document = VERIFIER.verify(signature(folder), createdOn(folder));
    Instant late = document.expiresOn().plusSeconds(1);

    assertThatThrownBy(() -> VERIFIER.verify(signature(folder), late))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("expired at " + document.expiresOn());
  }

  @ParameterizedTest
  @ValueSource(strings = {"taskcluster-wm-2019-12-13-itTLSCA4",
      "coder-azureidentity-regular-eastus-2026"})
  void realDocumentIsRejectedAfterSignerExpired(String folder) {
    AttestedDocument document = VERIFIER.verify(signature(folder), createdOn(folder));
    Instant afterSigner = document.signer().getNotAfter().toInstant().plusSeconds(1);

    // Past the signer's validity the document has also expired; either check rejects it.
    assertThatThrownBy(() -> VERIFIER.verify(signature(folder), afterSigner))
        .isInstanceOf(IdentityRejectedException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"taskcluster-wm-2019-12-13-itTLSCA4",
      "taskcluster-wm-2021-04-21-rsaTLSCA02", "taskcluster-wm-2023-01-05-azureTLSCA01",
      "taskcluster-wm-2025-04-23-azureRSATLSCA03", "coder-azureidentity-regular-eastus-2026"})
  void everyAlteredByteIsRejected(String folder) {
    byte[] der = Base64.getDecoder().decode(signature(folder).replaceAll("\\s", ""));
    Instant at = createdOn(folder);
    List<Integer> accepted = new ArrayList<>();

    for (int i = 0; i < der.length; i++) {
      byte[] altered = der.clone();
      altered[i] ^= 0x01;
      try {
        VERIFIER.verify(Base64.getEncoder().encodeToString(altered), at);
        accepted.add(i);
      } catch (IdentityRejectedException expected) {
        // The altered document was rejected, as it must be.
      }
    }

    assertThat(accepted).as("offsets whose altered byte was accepted").isEmpty();
  }

  @ParameterizedTest
  @CsvSource({
      "message_bad.b64, 2874, signature does not verify",
      "message_bad.b64, 2875, not a PKCS#7 SignedData",
      "signature_bad.b64, 2874, signature does not verify"})
  void negativeFixtureIsRejected(String file, int length, String reason) {
    // message_bad carries one byte after the DER structure; 2874 bytes is the structure alone.
    byte[] der = Base64.getDecoder().decode(
        AzureFixtures.read("NEGATIVE-taskcluster-wm-2019-2020", file).replaceAll("\\s", ""));
    String base64 = Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(der, length));

    assertThatThrownBy(() -> VERIFIER.verify(base64, Instant.parse("2019-12-13T00:33:40Z")))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining(reason);
  }

  @org.junit.jupiter.api.Test
  void wrongSubjectFixtureIsRejected() {
    String pem = AzureFixtures.read("NEGATIVE-taskcluster-wm-2019-2020", "wrong_subject.p7.pem");
    String base64 = pem.replaceAll("-----[A-Z0-9 ]+-----", "").replaceAll("\\s", "");

    assertThatThrownBy(() -> VERIFIER.verify(base64, Instant.parse("2020-11-15T12:00:00Z")))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("metadata.azure.org")
        .hasMessageContaining("is not metadata.azure.com");
  }

  @ParameterizedTest
  @CsvSource({
      "AzureUSGovernmentCloud, metadata.azure.us",
      "AzureChinaCloud, metadata.azure.cn"})
  void publicDocumentIsRejectedForOtherClouds(String cloud, String name) {
    AttestedDocumentVerifier verifier = AttestedDocumentVerifier.forCloud(cloud, List.of());
    String folder = "coder-azureidentity-regular-eastus-2026";

    assertThatThrownBy(() -> verifier.verify(signature(folder), createdOn(folder)))
        .isInstanceOf(IdentityRejectedException.class)
        .hasMessageContaining("is not " + name);
  }

  @org.junit.jupiter.api.Test
  void imdsJsonIsUnwrapped() {
    String folder = "taskcluster-wm-2025-04-23-azureRSATLSCA03";
    String json = "{\"encoding\":\"pkcs7\",\"signature\":\"" + signature(folder) + "\"}";

    String base64 = AttestedDocumentVerifier.signatureOf(json);

    assertThat(VERIFIER.verify(base64, createdOn(folder)).nonce()).isEqualTo("20250423-222358");
  }

  @org.junit.jupiter.api.Test
  void base64WithLineBreaksIsAccepted() {
    String folder = "taskcluster-wm-2021-04-21-rsaTLSCA02";
    String wrapped = Base64.getMimeEncoder().encodeToString(
        Base64.getDecoder().decode(signature(folder)));

    assertThat(VERIFIER.verify(wrapped, createdOn(folder)).vmId())
        .isEqualTo("fd776641-6588-4bad-9aaf-6c1ff20358bc");
  }

  @org.junit.jupiter.api.Test
  void contentFileMatchesSignedContent() {
    String folder = "taskcluster-wm-2023-01-05-azureTLSCA01";
    byte[] der = Base64.getDecoder().decode(signature(folder));
    String content = AzureFixtures.read(folder, "attested-content.json").strip();

    assertThat(new String(der, StandardCharsets.ISO_8859_1)).contains(content);
    assertThat(Duration.between(createdOn(folder), VERIFIER.verify(signature(folder),
        createdOn(folder)).expiresOn())).isEqualTo(Duration.ofHours(6));
  }

  static String signature(String folder) {
    return AzureFixtures.read(folder, "signature.b64").replaceAll("\\s", "");
  }

  /** Returns the document's createdOn, read from the content the fixture folder names. */
  static Instant createdOn(String folder) {
    String content = AzureFixtures.read(folder, "attested-content.json");
    String text = content.replaceAll("(?s).*\"createdOn\":\"([^\"]+)\".*", "$1");
    return java.time.OffsetDateTime.parse(text, java.time.format.DateTimeFormatter
        .ofPattern("MM/dd/yy HH:mm:ss xx")).toInstant();
  }
}
