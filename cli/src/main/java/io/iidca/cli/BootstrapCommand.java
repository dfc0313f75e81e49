package io.iidca.cli;

import io.iidca.ca.io.AtomicFiles;
import io.iidca.ca.pki.CaFiles;
import io.iidca.ca.pki.Fingerprints;
import io.iidca.ca.pki.Pem;
import io.iidca.routes.client.CaClient;
import io.iidca.routes.client.ClientDefaults;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code iidca bootstrap}: downloads the CA's root, checks it against the SHA-256 fingerprint the
 * user typed, then checks that the CA's TLS certificate chains to that root for the URL's host,
 * and writes {@code certs/root_ca.crt} and {@code config/defaults.yaml}.
 *
 * <p>The first request cannot verify the server, since the root is not known yet; the pin makes
 * that safe: a server without the CA's keys cannot produce a root with that fingerprint and a
 * TLS certificate that chains to it.
 */
final class BootstrapCommand extends Command {

  BootstrapCommand(Environment environment) {
    super(environment);
  }

  @Override
  String name() {
    return "bootstrap";
  }

  @Override
  String arguments() {
    return "";
  }

  @Override
  String summary() {
    return "Trust a CA: download its root, pinned by fingerprint, and save the CA's URL.";
  }

  @Override
  Options options() {
    return new Options()
        .addOption(Option.builder().longOpt("ca-url").hasArg().argName("URL")
            .desc("the CA's URL, such as https://ca.local").get())
        .addOption(Option.builder().longOpt("fingerprint").hasArg().argName("SHA256")
            .desc("SHA-256 fingerprint of the CA's root certificate, in hex").get())
        .addOption(Option.builder().longOpt("force")
            .desc("replace a different root certificate already saved here").get())
        .addOption(Option.builder().longOpt("help").desc("show this help").get());
  }

  @Override
  int run(CommandLine line) throws Exception {
    positional(line, 0, "no arguments");
    URI caUrl = caUrl(line.getOptionValue("ca-url"));
    String typed = line.getOptionValue("fingerprint");
    if (typed == null) {
      throw new UsageException("--fingerprint is required: the root fingerprint that iidca"
          + " init printed");
    }
    String fingerprint;
    try {
      fingerprint = Fingerprints.normalize(typed);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }

    X509Certificate root = downloadRoot(caUrl, fingerprint);
    CaClient pinned = new CaClient(caUrl, root, Duration.ofSeconds(10));
    CaClient.Response health = pinned.get("/health");
    if (health.status() != 200) {
      throw new IOException("the CA at " + caUrl + " returned HTTP " + health.status()
          + " for /health: " + health.message());
    }

    CaFiles files = environment.files();
    Path rootPath = files.rootCertificate();
    byte[] pem = Pem.encode(root).getBytes(StandardCharsets.US_ASCII);
    if (Files.exists(rootPath) && !line.hasOption("force")
        && !Arrays.equals(Files.readAllBytes(rootPath), pem)) {
      throw new UsageException(rootPath + " already contains a different root certificate; pass"
          + " --force to replace it, or set IIDCA_PATH to another directory");
    }
    AtomicFiles.write(rootPath, pem, AtomicFiles.PUBLIC);
    new ClientDefaults(caUrl.toString(), fingerprint, rootPath.toString()).save(files);
    done("Root certificate: " + rootPath);
    done("Configuration: " + files.defaults());
    return 0;
  }

  private static URI caUrl(String value) throws UsageException {
    if (value == null) {
      throw new UsageException("--ca-url is required, such as https://ca.local");
    }
    return httpsUrl(value.endsWith("/") ? value.substring(0, value.length() - 1) : value,
        "--ca-url", "");
  }

  private static X509Certificate downloadRoot(URI caUrl, String fingerprint) throws Exception {
    SSLContext unverified = SSLContext.getInstance("TLS");
    unverified.init(null, new javax.net.ssl.TrustManager[] {new AcceptAnyServer()}, null);
    HttpClient http = HttpClient.newBuilder().sslContext(unverified)
        .connectTimeout(Duration.ofSeconds(10)).proxy(HttpClient.Builder.NO_PROXY).build();
    HttpResponse<String> response;
    try {
      response = http.send(HttpRequest.newBuilder(URI.create(caUrl + "/root/" + fingerprint))
          .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
    } catch (java.net.ConnectException e) {
      throw new IOException("cannot connect to the CA at " + caUrl + ": is iidca serve"
          + " running there?", e);
    }
    if (response.statusCode() == 404) {
      throw new IOException("the CA at " + caUrl + " has no root with fingerprint "
          + fingerprint + ": check the fingerprint that iidca init printed");
    }
    if (response.statusCode() != 200) {
      throw new IOException("the CA at " + caUrl + " returned HTTP " + response.statusCode());
    }
    var body = new com.fasterxml.jackson.databind.ObjectMapper().readTree(response.body());
    X509Certificate root = Pem.parseCertificates(body.path("ca").asText("")
        .getBytes(StandardCharsets.US_ASCII)).get(0);
    String actual = Fingerprints.of(root);
    if (!actual.equals(fingerprint)) {
      throw new IOException("the root served by " + caUrl + " has fingerprint " + actual
          + ", not " + fingerprint + ": refusing to trust it");
    }
    return root;
  }

  /**
   * Accepts any server for the one request that fetches the root; the fingerprint check and
   * the pinned second request are what authenticate the CA.
   */
  private static final class AcceptAnyServer extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {
      throw new UnsupportedOperationException("client side only");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
      throw new UnsupportedOperationException("client side only");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
      throw new UnsupportedOperationException("client side only");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
