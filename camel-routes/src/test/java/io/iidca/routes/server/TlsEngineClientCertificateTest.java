package io.iidca.routes.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.KeySpec;
import io.iidca.ca.pki.Pem;
import io.iidca.routes.client.CaClient;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsTestSigner;
import io.iidca.testkit.pki.TestCa;
import io.netty.handler.ssl.OpenSsl;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Mutual TLS with each client key type the CA certifies, over TLS 1.2 and 1.3, on the TLS
 * engine this JVM selects: BoringSSL where netty-tcnative loads, the JDK's with
 * {@code -Dio.netty.handler.ssl.noOpenSsl=true}. A renew request carries no possession
 * token, so it succeeds only when the certificate arrived in the handshake. BoringSSL offers
 * no Ed25519 in its certificate request (TlsEngines), so there an Ed25519 client sends no
 * certificate and needs a possession token.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsEngineClientCertificateTest {

  static final String ACCOUNT = "123456789042";

  @TempDir
  static Path directory;

  AwsTestSigner signer;
  TestCa ca;
  CaServer server;
  String caUrl;

  @BeforeAll
  void startCa() throws Exception {
    signer = AwsTestSigner.generate();
    ca = TestCa.create(directory);
    String certificates = ca.writeCertificates("emulator", signer.certificates());
    ca.addProvisioner(new ProvisionerConfig("fleet", "AWS", Lifetime.DEFAULT, false, false,
        null, List.of(ACCOUNT), ProvisionerConfig.DEFAULT_AWS_FORMS, List.of(certificates)));
    server = CaServer.start(CaRuntime.load(ca.files(), ca.config(), TestCa.PASSWORD,
        Clock.systemUTC()), ListenAddress.parse("127.0.0.1:0"));
    caUrl = "https://127.0.0.1:" + server.port();
  }

  @AfterAll
  void stopCa() {
    server.close();
  }

  /** A key manager that always presents one key and chain, whatever the server requests. */
  static final class OneKey extends X509ExtendedKeyManager {
    private final PrivateKey key;
    private final X509Certificate[] chain;

    OneKey(PrivateKey key, X509Certificate[] chain) throws Exception {
      String algorithm = key.getAlgorithm().equals("ECDSA") ? "EC"
          : key.getAlgorithm().equals("EdDSA") ? "Ed25519" : key.getAlgorithm();
      this.key = KeyFactory.getInstance(algorithm)
          .generatePrivate(new PKCS8EncodedKeySpec(key.getEncoded()));
      this.chain = chain;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return new String[] {"client"};
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
      return "client";
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers,
        SSLEngine engine) {
      return "client";
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return chain.clone();
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return key;
    }
  }

  @ParameterizedTest(name = "{0} {1} {2} over TLS {3}")
  @CsvSource({
      "RSA, , 2048, TLSv1.2", "RSA, , 2048, TLSv1.3",
      "EC, P-256, , TLSv1.2", "EC, P-256, , TLSv1.3",
      "EC, P-384, , TLSv1.2", "EC, P-384, , TLSv1.3",
      "OKP, Ed25519, , TLSv1.2", "OKP, Ed25519, , TLSv1.3"})
  void renewWithoutTokenPerKeyType(String kty, String curve, Integer size,
      String protocol) throws Exception {
    SignRequestBuilder request = new SignRequestBuilder(signer,
        AwsInstance.random(ACCOUNT, "us-east-1"), caUrl, "fleet")
        .keySpec(KeySpec.of(kty, curve, size));
    CaClient.Response enrolled = new CaClient(URI.create(caUrl), ca.root(),
        Duration.ofSeconds(10)).post("/1.0/sign", request.body());
    assertThat(enrolled.status()).as(enrolled.message()).isEqualTo(201);
    X509Certificate certificate = Pem.parseCertificates(enrolled.body().get("crt").asText()
        .getBytes(StandardCharsets.US_ASCII)).get(0);
    KeyPair keys = request.keys();

    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("root", ca.root());
    TrustManagerFactory trustFactory = TrustManagerFactory.getInstance("PKIX");
    trustFactory.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(new OneKey[] {new OneKey(keys.getPrivate(), new X509Certificate[] {
        certificate, server.runtime().issuer().certificate()})},
        trustFactory.getTrustManagers(), null);
    SSLParameters parameters = new SSLParameters();
    parameters.setProtocols(new String[] {protocol});
    HttpClient http = HttpClient.newBuilder().sslContext(context).sslParameters(parameters)
        .build();

    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(caUrl
        + "/1.0/renew")).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
        HttpResponse.BodyHandlers.ofString());

    boolean certificateSent = !(kty.equals("OKP") && OpenSsl.isAvailable());
    assertThat(response.statusCode()).as("%s on %s: %s", protocol,
        OpenSsl.isAvailable() ? OpenSsl.versionString() : "the JDK's TLS", response.body())
        .isEqualTo(certificateSent ? 201 : 401);
  }
}
