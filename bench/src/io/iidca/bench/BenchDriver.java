package io.iidca.bench;

import io.iidca.testkit.aws.AwsTestSigner;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The load generator of {@code bench/run}. It generates the AWS test signer, writes its
 * certificates for {@code iidca provisioner add --aws-certificates}, prints {@code ready}, and
 * then runs one command per line of standard input, printing one result line per command on
 * standard output. The signer's keys exist only in this process, so it runs for the whole
 * bench.
 *
 * <p>Commands, with {@code key=value} arguments:
 *
 * <ul>
 *   <li>{@code load target=NAME body=iidca|iidca-same-instance|FILE url=URL cacert=PEM
 *       connections=N warmup=S window=S ok=STATUS pid=PID}: a {@link LoadStep}. With
 *       {@code body=iidca} every request is a new instance's enrollment, built before the
 *       step. With {@code body=iidca-same-instance provisioner=NAME} one instance enrolls
 *       again and again under a provisioner without trust on first use
 *       ({@link SignRequests#sameInstance}). Otherwise the JSON in FILE is sent each time.
 *       Prints {@code started ...} when the load begins, then {@code result ...}.
 *   <li>{@code storm target=NAME url=URL cacert=PEM instances=N workers=N deadline=S pid=PID}:
 *       a {@link BootStorm}; prints {@code storm ...}.
 *   <li>{@code quit}.
 * </ul>
 *
 * <p>A command that fails prints {@code error ...} and the driver goes on with the next one.
 */
public final class BenchDriver {

  /** Extra requests built beyond the estimate, because rates vary from step to step. */
  private static final double HEADROOM = 1.6;
  /** Extra headroom for a number of connections without a measured rate. */
  private static final double UNMEASURED_HEADROOM = 1.25;
  private static final int MAX_PREBUILT = 250_000;
  /**
   * The shortest window, in seconds, whose rate updates the estimate. A step that ran out of
   * requests still counts when its window was at least this long.
   */
  private static final double MIN_WINDOW_FOR_ESTIMATE = 0.5;

  private final SignRequests signRequests;
  private final long clockTicks;
  private final Map<Path, TlsConnector> connectors = new HashMap<>();
  private final boolean boringSsl;
  /** The fastest iidca rate measured so far, or the initial estimate, per second. */
  private double maxRate;
  /**
   * The last iidca rate measured with new instances at each number of connections, on either
   * iidca server, per second.
   */
  private final Map<Integer, Double> rateByConnections = new HashMap<>();

  private BenchDriver(SignRequests signRequests, long clockTicks, double initialRate,
      boolean boringSsl) {
    this.signRequests = signRequests;
    this.boringSsl = boringSsl;
    this.clockTicks = clockTicks;
    this.maxRate = initialRate;
  }

  /**
   * Runs the driver. Options: {@code --signer-out FILE --provisioner NAME --account ID
   * [--region R] [--subject CN] [--clock-ticks N] [--initial-rate PER_SECOND]
   * [--tls-client boringssl|jdk]}. The TLS client is BoringSSL unless {@code jdk} is given or
   * netty-tcnative's native library does not load.
   */
  public static void main(String[] args) throws Exception {
    Map<String, String> options = options(args);
    installNativeProvider();
    AwsTestSigner signer = AwsTestSigner.generate();
    Files.writeString(Path.of(required(options, "--signer-out")), signer.certificatesPem(),
        StandardCharsets.US_ASCII);
    SignRequests requests = new SignRequests(signer, required(options, "--provisioner"),
        required(options, "--account"), options.getOrDefault("--region", "us-east-1"),
        options.getOrDefault("--subject", "app.internal"));
    BenchDriver driver = new BenchDriver(requests,
        Long.parseLong(options.getOrDefault("--clock-ticks", "100")),
        Double.parseDouble(options.getOrDefault("--initial-rate", "1000")),
        useBoringSsl(options.getOrDefault("--tls-client", "boringssl")));
    System.out.println("ready");
    System.out.flush();
    driver.serve(System.in);
  }

  /**
   * Puts Amazon Corretto Crypto Provider first when iidca's distribution ships it and its
   * native library loads. The load generator's own handshakes (the ECDSA check of the server's
   * certificate, the P-256 key exchange) then take less of the CPU it shares with the servers.
   * The iidca client does not load it: on a VM, its handshake costs that VM's CPU, not the
   * CA's. Reports the outcome on standard error.
   */
  private static void installNativeProvider() {
    String name = "com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider";
    try {
      Class<?> type = Class.forName(name);
      java.security.Provider provider = (java.security.Provider) type.getField("INSTANCE")
          .get(null);
      Object error = type.getMethod("getLoadingError").invoke(provider);
      if (error != null) {
        System.err.println("load generator: native provider not loaded: " + error);
        return;
      }
      java.security.Security.insertProviderAt(provider, 1);
      System.err.println("load generator: " + provider.getName() + " " + provider.getVersionStr()
          + " installed first");
    } catch (ReflectiveOperationException e) {
      System.err.println("load generator: no native provider (" + e + ")");
    }
  }

  private static boolean useBoringSsl(String client) {
    switch (client) {
      case "jdk" -> {
        System.err.println("load generator: TLS client: the JDK's, as requested");
        return false;
      }
      case "boringssl" -> {
        if (BoringSslConnector.available()) {
          System.err.println("load generator: TLS client: BoringSSL through netty-tcnative");
          return true;
        }
        System.err.println("load generator: TLS client: the JDK's, because netty-tcnative did"
            + " not load: " + BoringSslConnector.unavailabilityReason());
        return false;
      }
      default -> throw new IllegalArgumentException("--tls-client " + client
          + " is invalid: expected boringssl or jdk");
    }
  }

  private void serve(InputStream input) throws IOException {
    BufferedReader reader =
        new BufferedReader(new InputStreamReader(input, StandardCharsets.UTF_8));
    for (String line = reader.readLine(); line != null; line = reader.readLine()) {
      String[] words = line.trim().split("\\s+");
      if (words[0].isEmpty()) {
        continue;
      }
      if (words[0].equals("quit")) {
        return;
      }
      try {
        Map<String, String> arguments = arguments(words);
        String output = switch (words[0]) {
          case "load" -> load(arguments);
          case "storm" -> storm(arguments);
          default -> throw new IllegalArgumentException("unknown command " + words[0]
              + ": expected load, storm or quit");
        };
        System.out.println(output);
      } catch (Exception e) {
        e.printStackTrace();
        System.out.println("error command=" + words[0] + " message="
            + String.valueOf(e.getMessage()).replaceAll("\\s+", "_"));
      }
      System.out.flush();
    }
  }

  private String load(Map<String, String> arguments) throws Exception {
    String target = required(arguments, "target");
    URI url = URI.create(required(arguments, "url"));
    int connections = Integer.parseInt(required(arguments, "connections"));
    Duration warmup = seconds(required(arguments, "warmup"));
    Duration window = seconds(required(arguments, "window"));
    String body = required(arguments, "body");
    LoadStep.RequestSource source;
    boolean newInstances = body.equals("iidca");
    boolean sameInstance = body.equals("iidca-same-instance");
    if (newInstances) {
      int count = prebuiltCount(connections, warmup.plus(window));
      source = LoadStep.once(build(target, url, count));
    } else if (sameInstance) {
      source = signRequests.sameInstance(caUrl(url), required(arguments, "provisioner"));
    } else {
      source = LoadStep.repeat(SignRequests.post(url, url.getRawPath(),
          Files.readAllBytes(Path.of(body))));
    }
    LoadStep step = new LoadStep(connector(Path.of(required(arguments, "cacert"))), url,
        Integer.parseInt(required(arguments, "ok")), cpuClock(arguments));
    System.out.println("started target=" + target + " connections=" + connections);
    System.out.flush();
    LoadStep.Result result = step.run(target, source, connections, warmup, window);
    if ((newInstances || sameInstance) && result.windowSeconds() >= MIN_WINDOW_FOR_ESTIMATE) {
      maxRate = Math.max(maxRate, result.rate());
    }
    // A warm-up runs a cheaper path on a JVM still compiling, so it sizes no later step at
    // its number of connections.
    if (newInstances && result.windowSeconds() >= MIN_WINDOW_FOR_ESTIMATE) {
      rateByConnections.put(connections, result.rate());
    }
    return result.line();
  }

  private String storm(Map<String, String> arguments) throws Exception {
    String target = required(arguments, "target");
    URI url = URI.create(required(arguments, "url"));
    int instances = Integer.parseInt(required(arguments, "instances"));
    List<byte[]> requests = build(target, url, instances);
    BootStorm storm = new BootStorm(connector(Path.of(required(arguments, "cacert"))), url,
        cpuClock(arguments));
    System.out.println("started target=" + target + " instances=" + instances);
    System.out.flush();
    return storm.run(target, requests, Integer.parseInt(required(arguments, "workers")),
        seconds(required(arguments, "deadline"))).line();
  }

  /**
   * Sizes the prebuilt requests from the last iidca rate measured with new instances at the
   * same number of connections, so that a step rarely runs out even when it is faster than the
   * last one. Building a request costs the load generator about twice the CPU that the CA
   * spends on it, so a step at 2 connections should not build for 64. A number of connections
   * not measured yet gets the fastest rate at any number and {@link #UNMEASURED_HEADROOM},
   * because rates rise with connections and while the JIT compiles.
   */
  private int prebuiltCount(int connections, Duration total) {
    double seconds = total.toMillis() / 1000.0;
    Double measured = rateByConnections.get(connections);
    double rate = measured != null ? measured : maxRate * UNMEASURED_HEADROOM;
    long count = (long) Math.ceil(rate * seconds * HEADROOM) + 2L * connections;
    return (int) Math.min(MAX_PREBUILT, count);
  }

  private List<byte[]> build(String target, URI url, int count) throws InterruptedException {
    long start = System.nanoTime();
    List<byte[]> requests = signRequests.iidca(caUrl(url), count);
    System.err.printf("bench: built %d sign requests for %s in %.1f s%n", count, target,
        (System.nanoTime() - start) / 1e9);
    return requests;
  }

  private static URI caUrl(URI url) {
    return URI.create(url.getScheme() + "://" + url.getHost() + ":" + url.getPort());
  }

  private CpuClock cpuClock(Map<String, String> arguments) {
    return new CpuClock(Long.parseLong(arguments.getOrDefault("pid", "0")),
        Long.parseLong(arguments.getOrDefault("database_pid", "0")), clockTicks);
  }

  /**
   * Returns a connector that trusts the CA certificates in {@code caCertificates}, and checks
   * each server's chain once ({@link PinningTrustManager}).
   */
  private TlsConnector connector(Path caCertificates)
      throws IOException, GeneralSecurityException {
    TlsConnector cached = connectors.get(caCertificates);
    if (cached != null) {
      return cached;
    }
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    CertificateFactory certificates = CertificateFactory.getInstance("X.509");
    try (InputStream in = Files.newInputStream(caCertificates)) {
      int n = 0;
      for (Certificate certificate : certificates.generateCertificates(in)) {
        trust.setCertificateEntry("ca-" + n++, certificate);
      }
    }
    TrustManagerFactory trustManagers =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trustManagers.init(trust);
    X509ExtendedTrustManager pkix = null;
    for (TrustManager manager : trustManagers.getTrustManagers()) {
      if (manager instanceof X509ExtendedTrustManager extended) {
        pkix = extended;
        break;
      }
    }
    if (pkix == null) {
      throw new GeneralSecurityException("trust manager factory "
          + trustManagers.getAlgorithm() + " returned no X509ExtendedTrustManager; run the"
          + " load generator with the JDK's default security providers");
    }
    PinningTrustManager pinning = new PinningTrustManager(pkix);
    TlsConnector connector;
    if (boringSsl) {
      connector = new BoringSslConnector(pinning);
    } else {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {pinning}, null);
      connector = new JdkTlsConnector(context.getSocketFactory());
    }
    connectors.put(caCertificates, connector);
    return connector;
  }

  private static Duration seconds(String value) {
    return Duration.ofMillis(Math.round(Double.parseDouble(value) * 1000));
  }

  private static Map<String, String> arguments(String[] words) {
    Map<String, String> arguments = new HashMap<>();
    for (int i = 1; i < words.length; i++) {
      int equals = words[i].indexOf('=');
      if (equals <= 0) {
        throw new IllegalArgumentException("argument " + words[i] + " is invalid: expected"
            + " key=value");
      }
      arguments.put(words[i].substring(0, equals), words[i].substring(equals + 1));
    }
    return arguments;
  }

  private static Map<String, String> options(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      options.put(args[i], args[i + 1]);
    }
    return options;
  }

  private static String required(Map<String, String> values, String key) {
    String value = values.get(key);
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(key + " is missing");
    }
    return value;
  }
}
