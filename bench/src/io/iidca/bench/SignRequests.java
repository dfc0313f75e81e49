package io.iidca.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.iidca.ca.pki.KeySpec;
import io.iidca.routes.client.AwsTokenBuilder;
import io.iidca.routes.client.CsrBuilder;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsTestSigner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Builds complete HTTP/1.1 requests ({@code POST} with head and body) before a load step, so that
 * no key generation or RSA signature runs while the step measures. {@link #sameInstance} is the
 * exception: a warm-up source that makes each request when it is taken.
 *
 * <p>An iidca request is what {@code iidca certificate} sends for a fresh EC2 instance: a new
 * instance identity document from {@link AwsInstance#random}, its {@code /rsa2048} signature by
 * the test signer that the CA trusts, a token from the client's own {@link AwsTokenBuilder}
 * (audience {@code <url>/1.0/sign#aws/<provisioner>}, expiry 5 minutes ahead, random
 * {@code jti}) and a CSR from the client's {@link CsrBuilder} over a new EC P-256 key. Every
 * request of {@link #iidca} is a distinct instance, because trust on first use admits one
 * enrollment per instance.
 *
 * <p>Thread-safe; {@link #iidca} spreads the work over all processors.
 */
final class SignRequests {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final AwsTestSigner signer;
  private final String provisioner;
  private final String account;
  private final String region;
  private final String subject;

  SignRequests(AwsTestSigner signer, String provisioner, String account, String region,
      String subject) {
    this.signer = signer;
    this.provisioner = provisioner;
    this.account = account;
    this.region = region;
    this.subject = subject;
  }

  /** Builds {@code count} iidca sign requests for the CA at {@code caUrl}, each a new instance. */
  List<byte[]> iidca(URI caUrl, int count) throws InterruptedException {
    int threads = Runtime.getRuntime().availableProcessors();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<List<byte[]>>> parts = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int share = count / threads + (t < count % threads ? 1 : 0);
        parts.add(pool.submit(() -> build(caUrl, share)));
      }
      List<byte[]> requests = new ArrayList<>(count);
      for (Future<List<byte[]>> part : parts) {
        requests.addAll(part.get());
      }
      return requests;
    } catch (ExecutionException e) {
      throw new IllegalStateException("building sign requests failed: " + e.getCause(),
          e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  private List<byte[]> build(URI caUrl, int count) {
    List<byte[]> requests = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      requests.add(newInstance().request(caUrl, provisioner));
    }
    return requests;
  }

  /**
   * Signs one new instance's document and makes a source of sign requests for it under
   * {@code warmUpProvisioner}, which must not use trust on first use. Every request carries
   * that document in a token of its own, made when the request is taken, and one CSR beside
   * it. Such a token costs a MAC instead of an RSA signature and a key pair, so a long load
   * needs no prebuilt requests. The CA runs the checks of {@link #iidca} on it but records the
   * token's SHA-256 instead of its jti, and registers no instance.
   */
  LoadStep.RequestSource sameInstance(URI caUrl, String warmUpProvisioner) {
    SignedInstance instance = newInstance();
    return () -> instance.request(caUrl, warmUpProvisioner);
  }

  /** Makes a new instance's document, its {@code /rsa2048} signature and a CSR for a new key. */
  private SignedInstance newInstance() {
    byte[] document = AwsInstance.random(account, region).document();
    // As iidca certificate does without --san: the subject is the one SAN, in CSR and token.
    List<String> names = List.of(subject);
    return new SignedInstance(document, signer.signRsa2048(document), names,
        CsrBuilder.build(KeySpec.EC_P256.generate(), subject, names));
  }

  /** An instance's signed document and a CSR, which each request sends in a new token. */
  private final class SignedInstance {
    private final byte[] document;
    private final byte[] rsa2048;
    private final List<String> names;
    private final String csr;

    SignedInstance(byte[] document, byte[] rsa2048, List<String> names, String csr) {
      this.document = document;
      this.rsa2048 = rsa2048;
      this.names = names;
      this.csr = csr;
    }

    /** Builds a sign request under {@code provisionerName} with a token made now. */
    byte[] request(URI caUrl, String provisionerName) {
      String token = AwsTokenBuilder.build(caUrl.toString(), provisionerName, subject, names,
          document, rsa2048, Instant.now());
      Map<String, String> body = new LinkedHashMap<>();
      body.put("csr", csr);
      body.put("ott", token);
      try {
        return post(caUrl, "/1.0/sign", JSON.writeValueAsBytes(body));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** Returns a complete {@code POST} request with a JSON body for the host and port of url. */
  static byte[] post(URI url, String path, byte[] body) {
    String head = "POST " + path + " HTTP/1.1\r\n"
        + "Host: " + url.getHost() + ":" + url.getPort() + "\r\n"
        + "Content-Type: application/json\r\n"
        + "Content-Length: " + body.length + "\r\n"
        + "\r\n";
    byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
    byte[] request = new byte[headBytes.length + body.length];
    System.arraycopy(headBytes, 0, request, 0, headBytes.length);
    System.arraycopy(body, 0, request, headBytes.length, body.length);
    return request;
  }
}
