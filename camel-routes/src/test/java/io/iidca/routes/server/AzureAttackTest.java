package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import io.iidca.ca.config.AzureOptions;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.azure.TenantKeys;
import io.iidca.ca.pki.Fingerprints;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.provisioner.AzureProvisioner;
import io.iidca.ca.store.JdbcStore;
import io.iidca.ca.store.Registration;
import io.iidca.ca.testing.MutableClock;
import io.iidca.routes.client.AzureMetadataClient;
import io.iidca.routes.client.CaClient;
import io.iidca.routes.client.CsrBuilder;
import io.iidca.testkit.azure.AzureInstance;
import io.iidca.testkit.azure.AzureMetadataEmulator;
import io.iidca.testkit.azure.AzureTestSigner;
import io.iidca.testkit.pki.TestCa;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.interfaces.RSAPrivateKey;
import java.time.Duration;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * Attacks on Azure enrollment through the real CA over HTTPS, with the IMDS emulator as the VM
 * and as its tenant's login host. A rejected request must get the exact status and name the
 * failed check in its audit line. It must leave no certificate, registration or used token id
 * behind, and its nonce stays usable by its own provisioner unless the case is about the nonce.
 * The CA and the emulator share a clock that tests move forward, so expiry needs no waiting.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AzureAttackTest {

  static final String TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  static final String OUTAGE_TENANT = "0b5e6a3c-1111-4222-8333-444455556666";
  static final String OTHER_TENANT = "f00dfeed-0000-4000-8000-000000000001";
  static final String SUBSCRIPTION = "0a1b2c3d-0000-4000-8000-00000000000a";
  static final String OTHER_SUBSCRIPTION = "0a1b2c3d-0000-4000-8000-00000000000b";
  static final String RESOURCE = "https://management.azure.com/";
  /** Requires a document and restricts subscription, resource group and object id. */
  static final String MAIN = "azure";
  /** A second provisioner of the same tenant and subscription. */
  static final String OTHER = "azure-other";
  /** Accepts the token alone, so trust on first use keys on xms_mirid. */
  static final String TOKEN_ONLY = "azure-token";
  /** A provisioner of another tenant whose login host fails until a test lets it recover. */
  static final String OUTAGE = "azure-outage";
  static final List<String> PROVISIONERS = List.of(MAIN, OTHER, TOKEN_ONLY, OUTAGE);

  @TempDir
  static Path directory;

  final MutableClock clock = new MutableClock();
  AzureMetadataEmulator emulator;
  AzureMetadataEmulator outageEmulator;
  AzureTestSigner misnamedSigner;
  AzureInstance vm;
  AzureMetadataClient imds;
  CaServer server;
  CaClient client;
  HttpClient http;
  URI caUrl;
  JdbcStore store;
  ListAppender<ILoggingEvent> audit;

  @BeforeAll
  void startCa() throws Exception {
    vm = AzureInstance.random(TENANT, SUBSCRIPTION);
    emulator = AzureMetadataEmulator.builder().instance(vm).clock(clock).start();
    outageEmulator = AzureMetadataEmulator.builder()
        .instance(AzureInstance.random(OUTAGE_TENANT, SUBSCRIPTION))
        .clock(clock)
        .start();
    outageEmulator.failKeyFetches(true);
    misnamedSigner = AzureTestSigner.generate("metadata.example.com");
    imds = new AzureMetadataClient(emulator.endpoint(), Duration.ofSeconds(5));

    TestCa ca = TestCa.create(directory.resolve("ca"));
    String roots = ca.writeCertificates("azure-roots", emulator.signer().roots());
    String misnamedRoots = ca.writeCertificates("misnamed-roots", misnamedSigner.roots());
    String keysUrl = emulator.openIdConfigUrl().toString();
    ca.addProvisioner(ProvisionerConfig.azure(MAIN, new AzureOptions(TENANT,
        AzureOptions.PUBLIC_CLOUD, null, List.of(SUBSCRIPTION), List.of(vm.resourceGroup()),
        List.of(vm.objectId()), keysUrl, true, List.of(roots, misnamedRoots))));
    ca.addProvisioner(ProvisionerConfig.azure(OTHER, new AzureOptions(TENANT,
        AzureOptions.PUBLIC_CLOUD, null, List.of(SUBSCRIPTION), List.of(), List.of(), keysUrl,
        true, List.of(roots))));
    ca.addProvisioner(ProvisionerConfig.azure(TOKEN_ONLY, new AzureOptions(TENANT,
        AzureOptions.PUBLIC_CLOUD, null, List.of(SUBSCRIPTION), List.of(), List.of(), keysUrl,
        false, List.of())));
    ca.addProvisioner(ProvisionerConfig.azure(OUTAGE, new AzureOptions(OUTAGE_TENANT,
        AzureOptions.PUBLIC_CLOUD, null, List.of(), List.of(), List.of(),
        outageEmulator.openIdConfigUrl().toString(), false, List.of())));

    // The key caches get the shared clock, so the retry delay after a failed fetch can pass
    // without waiting. Everything else is the runtime that CaRuntime.load builds.
    CaRuntime loaded = CaRuntime.load(ca.files(), ca.config(), TestCa.PASSWORD, clock);
    Map<String, AzureProvisioner> azure = new LinkedHashMap<>();
    for (ProvisionerConfig provisioner : loaded.provisioners()) {
      azure.put(provisioner.name(), AzureProvisioner.forConfig(provisioner, loaded.files(),
          loaded.store(), clock));
    }
    CaRuntime runtime = new CaRuntime(loaded.files(), loaded.config(), loaded.issuer(),
        loaded.store(), Map.of(), Map.of(), azure, clock);
    server = CaServer.start(runtime, ListenAddress.parse("127.0.0.1:0"));
    store = runtime.store();
    caUrl = URI.create("https://127.0.0.1:" + server.port());
    client = new CaClient(caUrl, ca.root(), Duration.ofSeconds(5));
    http = HttpClient.newBuilder()
        .sslContext(CaClient.pinnedContext(ca.root()))
        .connectTimeout(Duration.ofSeconds(5))
        .build();
    audit = new ListAppender<>();
    audit.start();
    ((Logger) LoggerFactory.getLogger("iidca.audit")).addAppender(audit);
  }

  @AfterAll
  void stop() {
    ((Logger) LoggerFactory.getLogger("iidca.audit")).detachAppender(audit);
    server.close();
    emulator.close();
    outageEmulator.close();
  }

  /** Resets every registration, because many tests enroll the one emulated VM. */
  @BeforeEach
  void resetRegistrations() {
    for (Registration registration : store.registrations(null)) {
      store.resetRegistration(registration.provisioner(), registration.instanceId());
    }
    audit.list.clear();
  }

  /** A sign request that a case alters. Unaltered, it is the VM's valid request. */
  final class Attempt {
    String provisioner = MAIN;
    String nonceProvisioner = MAIN;
    String nonce;
    final JWTClaimsSet.Builder claims = emulator.tokenClaims(RESOURCE);
    Function<JWTClaimsSet, String> tokenSigner = emulator.signer()::signToken;
    AzureInstance documentVm = vm;
    UnaryOperator<String> editContent = UnaryOperator.identity();
    Function<String, String> documentSigner = emulator.signer()::signDocument;
    boolean withDocument = true;
    String token;

    Attempt() throws Exception {
      nonce = issueNonce(MAIN);
    }

    Map<String, Object> body() throws Exception {
      token = tokenSigner.apply(claims.build());
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("csr", csr(vm.vmName()));
      body.put("ott", token);
      if (provisioner != null) {
        body.put("provisioner", provisioner);
      }
      if (withDocument) {
        String content = editContent.apply(emulator.attestedContent(nonce, documentVm));
        body.put("attestedDocument", documentSigner.apply(content));
      }
      return body;
    }
  }

  /** What an enrollment by the VM with the attempt's nonce gets after the attack. */
  enum NonceAfter {
    USABLE(201),
    SPENT(401);

    final int status;

    NonceAfter(int status) {
      this.status = status;
    }
  }

  @FunctionalInterface
  interface Change {
    void apply(Attempt attempt) throws Exception;
  }

  /** One attack: how the request is altered, the status, the audit reason, the nonce after. */
  record Case(String name, Change change, int status, String reason, NonceAfter nonceAfter) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Case rejected(String name, Change change, String reason) {
    return new Case(name, change, 401, reason, NonceAfter.USABLE);
  }

  static Case nonceRejected(String name, Change change, NonceAfter after) {
    return new Case(name, change, 401, "is unknown, used or expired", after);
  }

  Stream<Case> attacks() throws Exception {
    RSAPrivateKey foreignKey = (RSAPrivateKey) KeySpec.of("RSA", null, 2048).generate()
        .getPrivate();
    MACSigner publicKeyMac = new MACSigner(emulator.signer().tokenPublicKey().getEncoded());
    AzureInstance otherVm = AzureInstance.random(TENANT, SUBSCRIPTION);
    AzureInstance otherSubscriptionVm = AzureInstance.random(TENANT, OTHER_SUBSCRIPTION);
    return Stream.of(
        new Case("tid of another tenant", a -> a.claims.claim("tid", OTHER_TENANT), 401,
            "request names provisioner azure, which is not an Azure provisioner of tenant "
                + OTHER_TENANT, NonceAfter.USABLE),
        rejected("iss of another tenant", a -> a.claims.issuer("https://sts.windows.net/"
            + OTHER_TENANT + "/"), "token iss https://sts.windows.net/" + OTHER_TENANT
            + "/ is not one of"),
        rejected("aud of another resource", a -> a.claims.audience("https://vault.azure.net"),
            "token aud [https://vault.azure.net] is not " + RESOURCE),
        rejected("exp in the past", a -> a.claims
            .issueTime(at(-3600)).notBeforeTime(at(-3600)).expirationTime(at(-61)),
            "token expired at"),
        rejected("nbf in the future", a -> a.claims.notBeforeTime(at(120)), "token nbf"),
        rejected("iat in the future", a -> a.claims.issueTime(at(120)), "token iat"),
        rejected("kid unknown to the tenant", a -> a.tokenSigner = claims ->
            AzureTestSigner.signToken(new JWSHeader.Builder(JWSAlgorithm.RS256)
                .keyID("unknown-kid").build(), claims,
                new RSASSASigner(foreignKey)), "key id unknown-kid"),
        rejected("alg none", a -> a.tokenSigner = claims -> unsigned(claims),
            "ott is an unsecured JWT (alg none)"),
        rejected("HS256 keyed with the tenant's RSA public key", a -> a.tokenSigner = claims ->
            AzureTestSigner.signToken(new JWSHeader.Builder(JWSAlgorithm.HS256)
                .keyID(emulator.signer().keyId()).build(), claims, publicKeyMac),
            "token alg HS256 is not accepted, expected RS256"),
        rejected("foreign key with the tenant's kid", a -> a.tokenSigner = claims ->
            AzureTestSigner.signToken(realHeader(), claims, new RSASSASigner(foreignKey)),
            "token signature does not verify with key " + emulator.signer().keyId()),
        rejected("subscription not allowed", a -> a.claims.claim("xms_mirid",
            otherSubscriptionVm.resourceId()), "subscription " + OTHER_SUBSCRIPTION
            + " is not in the allowed subscriptions"),
        rejected("resource group not allowed", a -> a.claims.claim("xms_mirid",
            vm.resourceId().replace(vm.resourceGroup(), "other-rg")),
            "resource group other-rg is not in the allowed resource groups"),
        rejected("object id not allowed", a -> a.claims.claim("oid", otherVm.objectId()),
            "object id " + otherVm.objectId() + " is not in the allowed object ids"),
        rejected("no attested document", a -> a.withDocument = false,
            "provisioner azure requires an attested document"),
        nonceRejected("nonce never issued", a -> {
          a.nonce = "unissued42";
          a.nonceProvisioner = null;
        }, NonceAfter.SPENT),
        nonceRejected("nonce used before", a -> assertThat(enroll(MAIN, a.nonce))
            .isEqualTo(201), NonceAfter.SPENT),
        nonceRejected("nonce expired", a -> clock.advance(AzureNonceRoutes.LIFETIME
            .plusSeconds(1)), NonceAfter.SPENT),
        nonceRejected("nonce issued for another provisioner", a -> {
          a.nonce = issueNonce(OTHER);
          a.nonceProvisioner = OTHER;
        }, NonceAfter.USABLE),
        rejected("document signed by an untrusted chain", a -> a.documentSigner =
            emulator.signer()::signDocumentUntrusted, "has no valid path to a trusted root"),
        rejected("document signer not metadata.azure.com", a -> a.documentSigner =
            misnamedSigner::signDocument, "with DNS names [metadata.example.com, "
            + "metadata.example.com] is not metadata.azure.com"),
        rejected("document past expiresOn", a -> a.editContent = content -> content.replaceFirst(
            "\"expiresOn\":\"[^\"]*\"", "\"expiresOn\":\""
                + AzureMetadataEmulator.IMDS_TIME.format(clock.instant().minusSeconds(1))
                + "\""), "attested document expired at"),
        rejected("document of another subscription", a -> a.documentVm = otherSubscriptionVm,
            "attested document subscriptionId " + OTHER_SUBSCRIPTION
                + " differs from the token's subscription " + SUBSCRIPTION),
        rejected("forged token for this VM with another VM's document", a -> {
          a.tokenSigner = claims -> AzureTestSigner.signToken(realHeader(), claims,
              new RSASSASigner(foreignKey));
          a.documentVm = otherVm;
        }, "token signature does not verify"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("attacks")
  void attackIsRejectedWithoutTrace(Case attack) throws Exception {
    Attempt attempt = new Attempt();
    attack.change().apply(attempt);
    Map<String, Object> body = attempt.body();
    long certificates = store.countCertificates();
    List<Registration> registrations = store.registrations(null);
    Map<String, Boolean> nonceUsed = new java.util.HashMap<>();
    for (String provisioner : PROVISIONERS) {
      nonceUsed.put(provisioner, store.isTokenUsed(provisioner, "nonce:" + attempt.nonce));
    }
    audit.list.clear();

    CaClient.Response response = client.post("/1.0/sign", body);

    assertThat(response.status()).as(response.message()).isEqualTo(attack.status());
    assertThat(lastAuditLine()).contains("outcome=rejected").contains(attack.reason());
    assertThat(store.countCertificates()).isEqualTo(certificates);
    assertThat(store.registrations(null)).isEqualTo(registrations);
    for (String provisioner : PROVISIONERS) {
      assertThat(store.isTokenUsed(provisioner, tokenId(attempt.token))).as(provisioner)
          .isFalse();
      assertThat(store.isTokenUsed(provisioner, "nonce:" + attempt.nonce)).as(provisioner)
          .isEqualTo(nonceUsed.get(provisioner));
    }
    if (attempt.nonceProvisioner != null) {
      assertThat(enroll(attempt.nonceProvisioner, attempt.nonce)).as("enrollment by the VM"
          + " with the same nonce").isEqualTo(attack.nonceAfter().status);
    }
  }

  @Test
  void validAttemptIsRecorded() throws Exception {
    Attempt attempt = new Attempt();

    CaClient.Response response = client.post("/1.0/sign", attempt.body());

    assertThat(response.status()).as(response.message()).isEqualTo(201);
    assertThat(store.isTokenUsed(MAIN, "nonce:" + attempt.nonce)).isTrue();
    assertThat(store.certificatesOf(MAIN, "vm:" + vm.vmId())).isNotEmpty();
    assertThat(enroll(MAIN, attempt.nonce)).as("the nonce again").isEqualTo(401);
  }

  /**
   * Pins a limit that docs/azure.md states: a managed-identity token carries no vmId, so a
   * document of another VM in the same subscription passes, and registers that VM.
   */
  @Test
  void otherVmDocumentPassesAsDocumented() throws Exception {
    AzureInstance otherVm = AzureInstance.random(TENANT, SUBSCRIPTION);
    Attempt attempt = new Attempt();
    attempt.documentVm = otherVm;

    CaClient.Response response = client.post("/1.0/sign", attempt.body());

    assertThat(response.status()).as(response.message()).isEqualTo(201);
    assertThat(store.findRegistration(MAIN, "vm:" + otherVm.vmId())).isPresent();
    assertThat(store.findRegistration(MAIN, "vm:" + vm.vmId())).isEmpty();
  }

  /**
   * IMDS returns the same cached token until it nears expiry, so with a document the nonce, not
   * the token, is what is used once: after a reset the VM enrolls again with the same token.
   */
  @Test
  void cachedTokenWithFreshNonceEnrollsAfterReset() throws Exception {
    String token = imds.token(RESOURCE);
    assertThat(post(MAIN, token, imds.attestedDocument(issueNonce(MAIN))).status())
        .isEqualTo(201);
    store.resetRegistration(MAIN, "vm:" + vm.vmId());

    CaClient.Response again = post(MAIN, token, imds.attestedDocument(issueNonce(MAIN)));

    assertThat(again.status()).as(again.message()).isEqualTo(201);
  }

  /** Without a document the token itself is used once, so a copy of it cannot enroll again. */
  @Test
  void sameTokenWithoutDocumentIsReplay() throws Exception {
    String token = imds.token(RESOURCE);
    String instanceId = "mirid:" + vm.resourceId().toLowerCase(java.util.Locale.ROOT);
    assertThat(post(TOKEN_ONLY, token, null).status()).isEqualTo(201);
    store.resetRegistration(TOKEN_ONLY, instanceId);

    CaClient.Response again = post(TOKEN_ONLY, token, null);

    assertThat(again.status()).isEqualTo(401);
    assertThat(lastAuditLine()).contains("(replay)");
  }

  @Test
  void documentKeysRegistrationOnVmId() throws Exception {
    assertThat(enroll(MAIN, issueNonce(MAIN), false)).isEqualTo(201);

    Registration registration = store.findRegistration(MAIN, "vm:" + vm.vmId()).orElseThrow();
    assertThat(registration.account()).isEqualTo(SUBSCRIPTION);
    assertThat(store.registrations(MAIN)).hasSize(1);
    assertThat(enroll(MAIN, issueNonce(MAIN), false)).as("second enrollment").isEqualTo(403);
  }

  @Test
  void tokenAloneKeysRegistrationOnMirid() throws Exception {
    String instanceId = "mirid:" + vm.resourceId().toLowerCase(java.util.Locale.ROOT);

    assertThat(post(TOKEN_ONLY, imds.token(RESOURCE), null).status()).isEqualTo(201);

    assertThat(store.findRegistration(TOKEN_ONLY, instanceId)).isPresent();
    assertThat(store.registrations(TOKEN_ONLY)).hasSize(1);
    assertThat(post(TOKEN_ONLY, imds.token(RESOURCE), null).status()).as("second enrollment")
        .isEqualTo(403);
  }

  @Test
  void sharedTenantNeedsProvisionerName() throws Exception {
    String nonce = issueNonce(OTHER);
    long certificates = store.countCertificates();
    int otherCertificates = store.certificatesOf(OTHER, "vm:" + vm.vmId()).size();
    int mainCertificates = store.certificatesOf(MAIN, "vm:" + vm.vmId()).size();

    CaClient.Response unnamed = post(null, imds.token(RESOURCE), imds.attestedDocument(nonce));

    assertThat(unnamed.status()).isEqualTo(401);
    assertThat(lastAuditLine()).contains("3 Azure provisioners serve tenant " + TENANT
        + ": the request must name one in its provisioner field");
    assertThat(store.countCertificates()).isEqualTo(certificates);
    assertThat(store.registrations(null)).isEmpty();

    CaClient.Response named = post(OTHER, imds.token(RESOURCE), imds.attestedDocument(nonce));

    assertThat(named.status()).as(named.message()).isEqualTo(201);
    assertThat(store.certificatesOf(OTHER, "vm:" + vm.vmId())).hasSize(otherCertificates + 1);
    assertThat(store.certificatesOf(MAIN, "vm:" + vm.vmId())).hasSize(mainCertificates);
    assertThat(store.findRegistration(OTHER, "vm:" + vm.vmId())).isPresent();
    assertThat(store.registrations(MAIN)).isEmpty();
  }

  @Test
  void keyFetchFailureIsUnavailable() throws Exception {
    String token = outageEmulator.signer().signToken(outageEmulator.tokenClaims(RESOURCE)
        .build());
    String otherToken = outageEmulator.signer().signToken(outageEmulator.tokenClaims(RESOURCE)
        .build());

    HttpResponse<String> failed = rawSign(OUTAGE, token);

    assertThat(failed.statusCode()).isEqualTo(503);
    assertThat(failed.headers().firstValue("Retry-After")).hasValueSatisfying(
        seconds -> assertThat(Integer.parseInt(seconds)).isPositive());
    assertThat(lastAuditLine()).contains("stage=verify-azure", "returned HTTP 500, expected 200");
    assertThat(store.isTokenUsed(OUTAGE, tokenId(token))).isFalse();
    assertThat(store.registrations(OUTAGE)).isEmpty();

    outageEmulator.failKeyFetches(false);
    int fetches = outageEmulator.keyFetchCount();
    assertThat(rawSign(OUTAGE, token).statusCode()).as("within the retry delay")
        .isEqualTo(503);
    assertThat(outageEmulator.keyFetchCount()).isEqualTo(fetches);

    clock.advance(TenantKeys.DEFAULT_RETRY_AFTER_FAILURE);
    HttpResponse<String> recovered = rawSign(OUTAGE, token);

    assertThat(recovered.statusCode()).as(recovered.body()).isEqualTo(201);
    assertThat(store.isTokenUsed(OUTAGE, tokenId(token))).isTrue();
    assertThat(rawSign(OUTAGE, otherToken).statusCode()).as("trust on first use")
        .isEqualTo(403);
  }

  /** Enrolls the VM with a nonce and resets its registration after a success. */
  int enroll(String provisioner, String nonce) throws Exception {
    return enroll(provisioner, nonce, true);
  }

  int enroll(String provisioner, String nonce, boolean reset) throws Exception {
    CaClient.Response response = post(provisioner, imds.token(RESOURCE),
        imds.attestedDocument(nonce));
    if (response.status() == 201 && reset) {
      store.resetRegistration(provisioner, "vm:" + vm.vmId());
    }
    return response.status();
  }

  CaClient.Response post(String provisioner, String token, String document) throws Exception {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("csr", csr(vm.vmName()));
    body.put("ott", token);
    if (provisioner != null) {
      body.put("provisioner", provisioner);
    }
    if (document != null) {
      body.put("attestedDocument", document);
    }
    return client.post("/1.0/sign", body);
  }

  /** Posts a token-only sign request and returns the raw response, to read its headers. */
  HttpResponse<String> rawSign(String provisioner, String token) throws Exception {
    Map<String, Object> body = Map.of("csr", csr("vm.outage"), "ott", token,
        "provisioner", provisioner);
    return http.send(HttpRequest.newBuilder(caUrl.resolve("/1.0/sign"))
        .header("Content-Type", "application/json")
        .timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.ofByteArray(Json.MAPPER.writeValueAsBytes(body)))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  String issueNonce(String provisioner) throws Exception {
    CaClient.Response response = client.post("/1.0/azure/nonce",
        Map.of("provisioner", provisioner));
    assertThat(response.status()).as(response.message()).isEqualTo(201);
    return response.body().get("nonce").asText();
  }

  String lastAuditLine() {
    assertThat(audit.list).as("audit lines").isNotEmpty();
    return audit.list.get(audit.list.size() - 1).getFormattedMessage();
  }

  JWSHeader realHeader() {
    return new JWSHeader.Builder(JWSAlgorithm.RS256)
        .keyID(emulator.signer().keyId())
        .x509CertThumbprint(new Base64URL(emulator.signer().keyId()))
        .build();
  }

  Date at(long secondsFromNow) {
    return Date.from(clock.instant().plusSeconds(secondsFromNow));
  }

  static String csr(String name) throws Exception {
    KeyPair keys = KeySpec.of("EC", "P-256", null).generate();
    return CsrBuilder.build(keys, name, List.of(name));
  }

  static String unsigned(JWTClaimsSet claims) {
    java.util.Base64.Encoder encoder = java.util.Base64.getUrlEncoder().withoutPadding();
    return encoder.encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8)) + "."
        + encoder.encodeToString(claims.toString().getBytes(StandardCharsets.UTF_8)) + ".";
  }

  static String tokenId(String token) {
    return "sha256:" + Fingerprints.sha256Hex(token.getBytes(StandardCharsets.US_ASCII));
  }
}
