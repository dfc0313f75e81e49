package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.config.GcpOptions;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.Fingerprints;
import io.iidca.ca.pki.IidcaExtension;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import io.iidca.ca.provisioner.Audience;
import io.iidca.ca.store.JdbcStore;
import io.iidca.ca.testing.MutableClock;
import io.iidca.routes.client.CaClient;
import io.iidca.routes.client.ClientEnrollment.EnrollmentException;
import io.iidca.routes.client.CloudHint;
import io.iidca.routes.client.CsrBuilder;
import io.iidca.routes.client.Enroller;
import io.iidca.routes.client.EnrollmentRequest;
import io.iidca.routes.client.EnrollmentResult;
import io.iidca.routes.client.GcpMetadataClient;
import io.iidca.routes.client.MetadataEndpoints;
import io.iidca.testkit.gcp.GcpInstance;
import io.iidca.testkit.gcp.GcpMetadataEmulator;
import io.iidca.testkit.gcp.GcpTokenSigner;
import io.iidca.testkit.pki.TestCa;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * GCP enrollment through the real CA over HTTPS: identity tokens from the Compute Engine
 * metadata emulator, Google's keys from the emulator's {@code /oauth2/v3/certs}, and
 * {@code POST /1.0/sign}, both as iidca's client sends it and as forged requests.
 *
 * <p>Every provisioner but {@link #OTHER_PROJECT} allows the emulator's project, and each one
 * but {@link #PROVISIONER} adds one restriction. The CA and the emulator share one clock, which a test moves forward to pass
 * the key cache's minimum interval between fetches.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GcpEnrollmentTest {

  static final String PROJECT = "iidca-gcp-project";
  static final String ZONE = "us-central1-a";
  static final String PROVISIONER = "GCP Provisioner";
  static final String BOUND = "gcp-bound";
  static final String OTHER_PROJECT = "gcp-other-project";
  static final String OTHER_ACCOUNT = "gcp-other-account";
  static final String OTHER_ZONE = "gcp-other-zone";
  static final String OUTAGE = "gcp-outage";
  static final String AWS = "aws";
  static final List<String> GCP_PROVISIONERS =
      List.of(PROVISIONER, BOUND, OTHER_PROJECT, OTHER_ACCOUNT, OTHER_ZONE, OUTAGE);

  @TempDir
  static Path directory;

  MutableClock clock;
  GcpMetadataEmulator emulator;
  /** The emulator of {@link #OUTAGE}, whose key set returns HTTP 500 until the outage test. */
  GcpMetadataEmulator outageEmulator;
  GcpTokenSigner foreignSigner;
  TestCa ca;
  CaServer server;
  CaClient client;
  HttpClient http;
  String caUrl;
  ListAppender<ILoggingEvent> audit;

  @BeforeAll
  void startCa() throws Exception {
    clock = new MutableClock();
    emulator = GcpMetadataEmulator.builder().instance(GcpInstance.random(PROJECT, ZONE))
        .clock(clock).start();
    outageEmulator = GcpMetadataEmulator.builder().instance(GcpInstance.random(PROJECT, ZONE))
        .clock(clock).start();
    outageEmulator.failJwks(true);
    foreignSigner = new GcpTokenSigner();
    ca = TestCa.create(directory.resolve("ca"));
    String jwks = emulator.jwksUrl().toString();
    ca.addProvisioner(gcp(PROVISIONER, List.of(PROJECT), List.of(), List.of(), jwks, false));
    ca.addProvisioner(gcp(BOUND, List.of(PROJECT), List.of(), List.of(), jwks, true));
    ca.addProvisioner(gcp(OTHER_PROJECT, List.of("other-project-123"), List.of(), List.of(),
        jwks, false));
    ca.addProvisioner(gcp(OTHER_ACCOUNT, List.of(PROJECT),
        List.of("deployer@" + PROJECT + ".iam.gserviceaccount.com"), List.of(), jwks, false));
    ca.addProvisioner(gcp(OTHER_ZONE, List.of(PROJECT), List.of(), List.of("europe-west1"),
        jwks, false));
    ca.addProvisioner(gcp(OUTAGE, List.of(PROJECT), List.of(), List.of(),
        outageEmulator.jwksUrl().toString(), false));
    ca.addProvisioner(ProvisionerConfig.aws(AWS, List.of("123456789042")));
    CaRuntime runtime = CaRuntime.load(ca.files(), ca.config(), TestCa.PASSWORD, clock);
    server = CaServer.start(runtime, ListenAddress.parse("127.0.0.1:0"));
    caUrl = "https://127.0.0.1:" + server.port();
    client = new CaClient(URI.create(caUrl), ca.root(), Duration.ofSeconds(10));
    http = HttpClient.newBuilder().sslContext(CaClient.pinnedContext(ca.root()))
        .version(HttpClient.Version.HTTP_1_1).build();
    audit = new ListAppender<>();
    audit.start();
    ((Logger) LoggerFactory.getLogger("iidca.audit")).addAppender(audit);
  }

  /** Resets the instances' registrations, because trust on first use allows one enrollment. */
  @BeforeEach
  void resetRegistrations() {
    for (String provisioner : GCP_PROVISIONERS) {
      store().resetRegistration(provisioner, instance().instanceId());
      store().resetRegistration(provisioner, outageEmulator.instance().instanceId());
    }
  }

  @BeforeEach
  void clearAudit() {
    audit.list.clear();
  }

  @AfterAll
  void stop() {
    ((Logger) LoggerFactory.getLogger("iidca.audit")).detachAppender(audit);
    server.close();
    emulator.close();
    outageEmulator.close();
  }

  private static ProvisionerConfig gcp(String name, List<String> projects,
      List<String> accounts, List<String> zones, String jwksUrl, boolean requireKeyBinding) {
    return ProvisionerConfig.gcp(name, new GcpOptions(projects, accounts, zones, jwksUrl, null,
        requireKeyBinding));
  }

  // ---- The client flow and trust on first use ----

  @Test
  void clientFlowIssuesVouchedNames() throws Exception {
    Path out = Files.createTempDirectory(directory, "client");
    EnrollmentResult result = Enroller.enroll(enrollmentRequest(out, "web-1.example.com"));

    X509Certificate leaf = result.certificate();
    assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=web-1.example.com");
    assertThat(sans(leaf)).containsExactly("web-1.example.com",
        instance().instanceName() + ".c." + PROJECT + ".internal",
        instance().instanceName() + "." + ZONE + ".c." + PROJECT + ".internal");
    assertThat(IidcaExtension.from(leaf)).contains(new IidcaExtension("GCP", PROVISIONER,
        instance().instanceId(), PROJECT));
    assertThat(Pem.readCertificates(out.resolve("web.crt"))).hasSize(2);
    assertThat(out.resolve("web.key")).exists();
    String serial = leaf.getSerialNumber().toString(16);
    assertThat(store().findCertificate(serial)).isPresent();
    assertThat(store().findRegistration(PROVISIONER, instance().instanceId())).isPresent();
    assertThat(store().certificatesOf(PROVISIONER, instance().instanceId()))
        .extracting(record -> record.serial()).contains(serial);
  }

  @Test
  void wrongCloudHintOnlyCostsAnUnusedRead() throws Exception {
    URI closed;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = URI.create("http://127.0.0.1:" + socket.getLocalPort());
    }
    Map<String, String> variables = Map.of(GcpMetadataClient.HOST_VARIABLE,
        emulator.metadataHost(), MetadataEndpoints.AWS_VARIABLE, closed.toString());
    Path out = Files.createTempDirectory(directory, "hint");
    List<String> progress = new ArrayList<>();

    // The AWS read fails, because nothing listens there, and the CA names a GCP provisioner.
    EnrollmentResult result = Enroller.enroll(new EnrollmentRequest(URI.create(caUrl),
        ca.root(), null, PROVISIONER, "web-1.example.com", List.of(), KeySpec.EC_P256,
        out.resolve("web.crt"), out.resolve("web.key"), false, progress::add, null,
        variables::get, ProvisionerConfig.TYPE_AWS));

    assertThat(result.certificate().getSubjectX500Principal().getName())
        .contains("web-1.example.com");
    assertThat(progress).contains("Instance identity token: http://" + emulator.metadataHost());
  }

  @Test
  void wrongHintAtSilentEndpointCostsLittle() throws Exception {
    // TCP connects (the kernel's accept queue), but no byte ever comes back.
    try (ServerSocket silent = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
      URI hanging = URI.create("http://127.0.0.1:" + silent.getLocalPort());
      Map<String, String> variables = Map.of(GcpMetadataClient.HOST_VARIABLE,
          emulator.metadataHost(), MetadataEndpoints.AWS_VARIABLE, hanging.toString());
      Path out = Files.createTempDirectory(directory, "hang");
      long start = System.nanoTime();

      Enroller.enroll(new EnrollmentRequest(URI.create(caUrl), ca.root(), null, PROVISIONER,
          "web-1.example.com", List.of(), KeySpec.EC_P256, out.resolve("web.crt"),
          out.resolve("web.key"), false, line -> { }, null, variables::get,
          ProvisionerConfig.TYPE_AWS));

      // The usual metadata timeout is 2 s per request, and the early read's is 0.3 s with no
      // IMDSv1 fallback, so a read that ran into the usual timeouts fails here.
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      assertThat(took).as("enrollment time with a wrong AWS hint")
          .isLessThan(Duration.ofSeconds(2));
    }
  }

  @Test
  void secondClientEnrollmentIsForbidden() throws Exception {
    Path out = Files.createTempDirectory(directory, "tofu");
    Enroller.enroll(enrollmentRequest(out, "web-1.example.com"));
    long certificates = store().countCertificates();
    int ofInstance = store().certificatesOf(PROVISIONER, instance().instanceId()).size();
    Path again = Files.createTempDirectory(directory, "tofu-again");

    assertThatThrownBy(() -> Enroller.enroll(enrollmentRequest(again, "web-2.example.com")))
        .isInstanceOf(EnrollmentException.class)
        .hasMessageContaining("HTTP 403")
        .hasMessageContaining("already enrolled")
        .hasMessageContaining(instance().instanceId());
    assertThat(store().countCertificates()).isEqualTo(certificates);
    assertThat(store().certificatesOf(PROVISIONER, instance().instanceId()))
        .hasSize(ofInstance);
    assertThat(again.resolve("web.crt")).doesNotExist();
    assertThat(again.resolve("web.key")).doesNotExist();
  }

  @Test
  void freshTokenOfEnrolledInstanceForbidden() throws Exception {
    assertThat(post(signRequest(PROVISIONER)).status()).isEqualTo(201);
    long certificates = store().countCertificates();
    clock.advance(Duration.ofSeconds(1));
    SignRequest second = signRequest(PROVISIONER);

    CaClient.Response response = post(second);

    assertThat(response.status()).isEqualTo(403);
    assertThat(store().countCertificates()).isEqualTo(certificates);
    assertThat(store().isTokenUsed(PROVISIONER, tokenId(second.token()))).isFalse();
  }

  private EnrollmentRequest enrollmentRequest(Path out, String subject) {
    Map<String, String> variables = Map.of(GcpMetadataClient.HOST_VARIABLE,
        emulator.metadataHost());
    return new EnrollmentRequest(URI.create(caUrl), ca.root(), null, PROVISIONER, subject,
        List.of(), KeySpec.EC_P256, out.resolve("web.crt"), out.resolve("web.key"), false,
        line -> { }, null, variables::get, CloudHint.detect(variables::get, null));
  }

  // ---- Key binding ----

  @Test
  void tokenBoundToOtherKeyIsRejected() throws Exception {
    KeyPair tokenKey = KeySpec.EC_P256.generate();
    KeyPair csrKey = KeySpec.EC_P256.generate();
    String token = emulatorToken(Audience.bound(caUrl, "gcp", PROVISIONER,
        tokenKey.getPublic()));

    assertRejectedWithoutRecord(new SignRequest(csrKey, token), 401, PROVISIONER);
    assertThat(store().isTokenUsed(PROVISIONER, tokenId(token))).isFalse();
    assertThat(lastAudit()).contains("stage=verify-gcp", "token aud binds key "
        + Audience.spkiDigest(tokenKey.getPublic()));
  }

  @Test
  void keyBindingProvisionerRejectsUnboundToken() throws Exception {
    KeyPair keys = KeySpec.EC_P256.generate();
    String token = emulatorToken(Audience.of(caUrl, "gcp", BOUND));

    assertRejectedWithoutRecord(new SignRequest(keys, token), 401, BOUND);
    assertThat(store().isTokenUsed(BOUND, tokenId(token))).isFalse();
    assertThat(lastAudit()).contains("stage=verify-gcp", "token aud has no spki parameter");
  }

  @Test
  void keyBindingProvisionerAcceptsBoundToken() throws Exception {
    SignRequest request = signRequest(BOUND);

    CaClient.Response response = post(request);

    assertThat(response.status()).as(response.message()).isEqualTo(201);
    assertThat(store().findRegistration(BOUND, instance().instanceId())).isPresent();
    assertThat(store().isTokenUsed(BOUND, tokenId(request.token()))).isTrue();
  }

  // ---- Rejections ----

  /**
   * A forged or unacceptable request, the status it gets, the provisioner it names, and the
   * start of the reason that the audit log records for it.
   */
  record Rejection(Function<GcpEnrollmentTest, SignRequest> request, int status,
      String provisioner, String audit) {}

  static Stream<Arguments> rejections() {
    return Stream.of(
        rejection("project not allowed", 401, OTHER_PROJECT, "verify-gcp", "project_id",
            test -> test.signRequest(OTHER_PROJECT)),
        rejection("service account not allowed", 401, OTHER_ACCOUNT, "verify-gcp",
            "service account", test -> test.signRequest(OTHER_ACCOUNT)),
        rejection("zone not allowed", 401, OTHER_ZONE, "verify-gcp", "zone",
            test -> test.signRequest(OTHER_ZONE)),
        rejection("expired", 401, PROVISIONER, "verify-gcp", "token expired",
            test -> test.withClaims(claims -> test.emulator.sign(claims
                .issueTime(test.ago(Duration.ofHours(2)))
                .expirationTime(test.ago(Duration.ofHours(1))).build()))),
        rejection("iat in the future", 401, PROVISIONER, "verify-gcp", "token iat",
            test -> test.withClaims(claims -> test.emulator.sign(claims
                .issueTime(test.ago(Duration.ofMinutes(-10)))
                .expirationTime(test.ago(Duration.ofMinutes(-70))).build()))),
        rejection("audience of another CA host", 401, PROVISIONER, "verify-gcp",
            "token aud https://ca.other.example/", test -> test.withAudience(
                keys -> Audience.bound("https://ca.other.example", "gcp", PROVISIONER,
                    keys.getPublic()))),
        rejection("audience of an unknown provisioner", 401, PROVISIONER, "identify",
            "token names provisioner gcp/unknown", test -> test.withAudience(
                keys -> Audience.bound(test.caUrl, "gcp", "unknown", keys.getPublic()))),
        // The aws fragment sends the token to the AWS verifier, which finds no document in it.
        rejection("audience with an aws fragment", 400, PROVISIONER, "verify-aws",
            "token has no amazon.document claim",
            test -> test.withAudience(keys -> Audience.of(test.caUrl, "aws", AWS))),
        rejection("kid not in the key set", 401, PROVISIONER, "verify-gcp", "token kid",
            test -> test.withClaims(claims -> test.foreignSigner.sign(claims.build()))),
        // An unsecured JWT (RFC 7519, 6) is not a JWS, so identify rejects it as a forgery.
        rejection("alg none", 401, PROVISIONER, "identify", "ott is an unsecured JWT",
            test -> test.withClaims(claims -> new PlainJWT(claims.build()).serialize())),
        rejection("HS256 keyed with the RSA public key", 401, PROVISIONER, "verify-gcp",
            "token alg HS256 is not accepted", test -> test.withClaims(
                test::signHs256WithPublicKey)),
        rejection("RS256 by a foreign key with a forged kid", 401, PROVISIONER, "verify-gcp",
            "token signature does not verify", test -> test.withClaims(
                claims -> test.signWithForgedKid(claims.build()))),
        rejection("no compute_engine claims", 401, PROVISIONER, "verify-gcp",
            "token has no google.compute_engine claim", test -> test.withClaims(
                claims -> test.emulator.sign(GcpTokenSigner.claims(test.instance(),
                    claims.build().getAudience().get(0), test.clock.instant(), false, false)
                    .build()))));
  }

  private static Arguments rejection(String name, int status, String provisioner,
      String stage, String reason, Function<GcpEnrollmentTest, SignRequest> request) {
    return Arguments.of(Named.of(name, new Rejection(request, status, provisioner,
        "stage=" + stage + " reason=\"" + reason)));
  }

  @ParameterizedTest
  @MethodSource("rejections")
  void rejectionRecordsNothing(Rejection rejection) throws Exception {
    SignRequest request = rejection.request().apply(this);

    assertRejectedWithoutRecord(request, rejection.status(), rejection.provisioner());
    assertThat(lastAudit()).contains(rejection.audit());
    List<String> recordedBy = new ArrayList<>(GCP_PROVISIONERS);
    recordedBy.removeIf(name -> !store().isTokenUsed(name, tokenId(request.token())));
    assertThat(recordedBy).as("provisioners that recorded the token as used").isEmpty();
  }

  @Test
  void otherKeyReplayIsRejected() throws Exception {
    String token = emulatorToken(Audience.of(caUrl, "gcp", PROVISIONER));
    assertThat(post(new SignRequest(KeySpec.EC_P256.generate(), token)).status())
        .isEqualTo(201);
    store().resetRegistration(PROVISIONER, instance().instanceId());

    assertRejectedWithoutRecord(new SignRequest(KeySpec.EC_P256.generate(), token), 401,
        PROVISIONER);
    assertThat(lastAudit()).contains("stage=record", "was already used", "(replay)");
  }

  @Test
  void repeatGetsSameCertificate() throws Exception {
    SignRequest request = signRequest(PROVISIONER);
    CaClient.Response first = post(request);
    long certificates = store().countCertificates();

    CaClient.Response repeat = post(request);

    assertThat(repeat.status()).as(repeat.message()).isEqualTo(201);
    assertThat(repeat.body().get("crt").asText()).isEqualTo(first.body().get("crt").asText());
    assertThat(store().countCertificates()).isEqualTo(certificates);
    assertThat(lastAudit()).contains("outcome=issued_earlier");
  }

  @Test
  void forgedTokenDoesNotLockOutInstance() throws Exception {
    SignRequest forged = withClaims(claims -> signWithForgedKid(claims.build()));
    assertRejectedWithoutRecord(forged, 401, PROVISIONER);

    CaClient.Response real = post(signRequest(PROVISIONER));

    assertThat(real.status()).as(real.message()).isEqualTo(201);
    assertThat(store().findRegistration(PROVISIONER, instance().instanceId())).isPresent();
  }

  @Test
  void forgedTokenOfAnotherInstanceIsRejected() throws Exception {
    GcpInstance victim = GcpInstance.random(PROJECT, ZONE);
    KeyPair keys = KeySpec.EC_P256.generate();
    String audience = Audience.bound(caUrl, "gcp", PROVISIONER, keys.getPublic());
    String token = signWithForgedKid(GcpTokenSigner.claims(victim, audience, clock.instant(),
        true, false).build());
    long certificates = store().countCertificates();

    CaClient.Response response = post(new SignRequest(keys, token));

    assertThat(response.status()).isEqualTo(401);
    assertThat(store().countCertificates()).isEqualTo(certificates);
    assertThat(store().findRegistration(PROVISIONER, victim.instanceId())).isEmpty();
  }

  // ---- Key set outage ----

  @Test
  void keySetOutageUnavailableUntilRecovery() throws Exception {
    KeyPair keys = KeySpec.EC_P256.generate();
    String token = outageEmulator.sign(outageEmulator.identityClaims(
        Audience.bound(caUrl, "gcp", OUTAGE, keys.getPublic())).build());
    SignRequest request = new SignRequest(keys, token);
    long certificates = store().countCertificates();

    HttpResponse<String> failed = postRaw(request);

    assertThat(failed.statusCode()).isEqualTo(503);
    assertThat(lastAudit()).contains("stage=verify-gcp", "returned HTTP 500");
    assertThat(failed.headers().firstValue("Retry-After")).hasValueSatisfying(
        seconds -> assertThat(Integer.parseInt(seconds)).isPositive());
    assertThat(store().countCertificates()).isEqualTo(certificates);
    assertThat(store().isTokenUsed(OUTAGE, tokenId(token))).isFalse();
    assertThat(outageEmulator.jwksFetchCount()).isEqualTo(1);

    outageEmulator.failJwks(false);
    clock.advance(Duration.ofSeconds(11));
    HttpResponse<String> recovered = postRaw(request);

    assertThat(recovered.statusCode()).as(recovered.body()).isEqualTo(201);
    assertThat(outageEmulator.jwksFetchCount()).isEqualTo(2);
    assertThat(store().findRegistration(OUTAGE, outageEmulator.instance().instanceId()))
        .isPresent();
    assertThat(client.get("/provisioners").body().path("provisioners").findValuesAsText("name"))
        .contains(OUTAGE);
  }

  // ---- Helpers ----

  /** A key pair, a CSR for it, and the token posted with it. */
  record SignRequest(KeyPair keys, String token) {}

  GcpInstance instance() {
    return emulator.instance();
  }

  JdbcStore store() {
    return server.runtime().store();
  }

  /** Returns a request with a genuine token whose audience binds the request's key. */
  SignRequest signRequest(String provisioner) {
    KeyPair keys = KeySpec.EC_P256.generate();
    return new SignRequest(keys, emulatorToken(Audience.bound(caUrl, "gcp", provisioner,
        keys.getPublic())));
  }

  /** Returns a request whose token the emulator signs for the audience built from the key. */
  SignRequest withAudience(Function<KeyPair, String> audience) {
    KeyPair keys = KeySpec.EC_P256.generate();
    return new SignRequest(keys, emulatorToken(audience.apply(keys)));
  }

  /**
   * Returns a request whose token {@code sign} makes from the claims of a genuine token for
   * {@link #PROVISIONER}, bound to the request's key.
   */
  SignRequest withClaims(Function<JWTClaimsSet.Builder, String> sign) {
    KeyPair keys = KeySpec.EC_P256.generate();
    return new SignRequest(keys, sign.apply(emulator.identityClaims(
        Audience.bound(caUrl, "gcp", PROVISIONER, keys.getPublic()))));
  }

  /** Fetches a token from the emulator's metadata path, as an instance would. */
  String emulatorToken(String audience) {
    try {
      return new GcpMetadataClient(emulator.endpoint(), Duration.ofSeconds(5))
          .fetchIdentityToken(audience);
    } catch (Exception e) {
      throw new IllegalStateException("the emulator issued no token: " + e.getMessage(), e);
    }
  }

  Date ago(Duration duration) {
    return Date.from(clock.instant().minus(duration));
  }

  /** Signs with a key that is not the emulator's, under the header of the emulator's key. */
  String signWithForgedKid(JWTClaimsSet claims) {
    JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.RS256)
        .keyID(emulator.signer().signingKey().getKeyID()).type(JOSEObjectType.JWT).build();
    SignedJWT jwt = new SignedJWT(header, claims);
    try {
      jwt.sign(new RSASSASigner(foreignSigner.signingKey()));
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }

  /** Signs with HMAC-SHA256 keyed with the DER bytes of the emulator's public key. */
  String signHs256WithPublicKey(JWTClaimsSet.Builder claims) {
    try {
      byte[] secret = emulator.signer().signingKey().toRSAPublicKey().getEncoded();
      JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.HS256)
          .keyID(emulator.signer().signingKey().getKeyID()).type(JOSEObjectType.JWT).build();
      SignedJWT jwt = new SignedJWT(header, claims.build());
      jwt.sign(new MACSigner(secret));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  String lastAudit() {
    assertThat(audit.list).isNotEmpty();
    return audit.list.get(audit.list.size() - 1).getFormattedMessage();
  }

  static String tokenId(String token) {
    return "sha256:" + Fingerprints.sha256Hex(token.getBytes(StandardCharsets.US_ASCII));
  }

  static Map<String, Object> body(SignRequest request) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("csr", CsrBuilder.build(request.keys(), "web-1.example.com",
        List.of("web-1.example.com")));
    body.put("ott", request.token());
    return body;
  }

  CaClient.Response post(SignRequest request) throws Exception {
    return client.post("/1.0/sign", body(request));
  }

  HttpResponse<String> postRaw(SignRequest request) throws Exception {
    String json = new ObjectMapper().writeValueAsString(body(request));
    return http.send(HttpRequest.newBuilder(URI.create(caUrl + "/1.0/sign"))
        .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Posts the request, asserts the status, and asserts that the CA recorded no new certificate
   * and no registration of the emulator's instance.
   */
  void assertRejectedWithoutRecord(SignRequest request, int status, String provisioner)
      throws Exception {
    long certificates = store().countCertificates();

    CaClient.Response response = post(request);

    assertThat(response.status()).as(response.message()).isEqualTo(status);
    assertThat(store().countCertificates()).isEqualTo(certificates);
    assertThat(store().findRegistration(provisioner, instance().instanceId())).isEmpty();
  }

  static List<String> sans(X509Certificate certificate) throws Exception {
    return certificate.getSubjectAlternativeNames().stream()
        .map(entry -> String.valueOf(entry.get(1))).toList();
  }
}
