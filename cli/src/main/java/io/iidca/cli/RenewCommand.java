package io.iidca.cli;

import io.iidca.ca.config.Durations;
import io.iidca.ca.pki.CaFiles;
import io.iidca.ca.pki.Fingerprints;
import io.iidca.ca.pki.Pem;
import io.iidca.routes.client.ClientDefaults;
import io.iidca.routes.client.RenewalSchedule;
import io.iidca.routes.client.Renewer;
import io.iidca.routes.client.RenewerDaemon;
import io.iidca.routes.client.RenewerHook;
import io.iidca.routes.client.RenewerSignals;
import java.net.URI;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.random.RandomGenerator;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code iidca renew CRT KEY}: renews a certificate over mutual TLS when it is inside its
 * renewal window, writes the new chain (and key, with {@code --rekey}) atomically, then runs
 * {@code --exec} or signals {@code --pid-file}. With {@code --daemon} it keeps doing so until
 * SIGTERM or SIGINT; SIGHUP renews at once (see {@link RenewerSignals} for how signals are
 * handled and where they are not).
 */
final class RenewCommand extends Command {

  private static final Logger LOG = LoggerFactory.getLogger(RenewCommand.class);

  RenewCommand(Environment environment) {
    super(environment);
  }

  @Override
  String name() {
    return "renew";
  }

  @Override
  String arguments() {
    return "CRT_FILE KEY_FILE";
  }

  @Override
  String summary() {
    return "Renew a certificate from the CA that issued it, presenting it over mutual TLS,"
        + " once it is past two thirds of its lifetime; --daemon keeps renewing.";
  }

  @Override
  Options options() {
    return new Options()
        .addOption(Option.builder().longOpt("daemon")
            .desc("keep running and renew each certificate at two thirds of its lifetime,"
                + " less a random jitter of up to 1/20 of it; SIGHUP renews at once, SIGTERM"
                + " and SIGINT stop").get())
        .addOption(Option.builder().longOpt("force")
            .desc("renew even if the certificate is not yet inside its renewal window").get())
        .addOption(Option.builder().longOpt("expires-in").hasArg().argName("DURATION")
            .desc("renew when the certificate expires within DURATION, such as 8h, instead"
                + " of after two thirds of its lifetime").get())
        .addOption(Option.builder().longOpt("rekey")
            .desc("replace the key with a new one of the same type and certify that").get())
        .addOption(Option.builder().longOpt("exec").hasArg().argName("COMMAND")
            .desc("after renewing, run COMMAND with /bin/sh -c, such as"
                + " 'systemctl reload nginx'").get())
        .addOption(Option.builder().longOpt("pid-file").hasArg().argName("FILE")
            .desc("after renewing, send --signal to the process whose id FILE holds").get())
        .addOption(Option.builder().longOpt("signal").hasArg().argName("NAME")
            .desc("signal for --pid-file: one of " + RenewerHook.SIGNALS + " (default HUP)")
            .get())
        .addOption(Option.builder().longOpt("ca-url").hasArg().argName("URL")
            .desc("the CA's URL, instead of the bootstrapped one").get())
        .addOption(Option.builder().longOpt("root").hasArg().argName("FILE")
            .desc("the root certificate to trust, instead of the bootstrapped one").get())
        .addOption(Option.builder().longOpt("help").desc("show this help").get());
  }

  @Override
  int run(CommandLine line) throws Exception {
    List<String> args = positional(line, 2, "CRT_FILE KEY_FILE");
    RenewalSchedule schedule = schedule(line);
    RenewerHook hook = hook(line);
    boolean daemon = line.hasOption("daemon");
    Renewer renewer = renewer(line, Path.of(args.get(0)), Path.of(args.get(1)), daemon);

    if (daemon) {
      return runDaemon(renewer, schedule, hook, line.hasOption("force"));
    }
    if (!renewOnce(renewer, schedule, line.hasOption("force"))) {
      return 0;
    }
    try {
      hook.run(this::done, output -> err.println("  | " + output));
    } catch (RenewerHook.HookException e) {
      throw new IllegalStateException("renewed " + renewer.certificateFile() + ", but the"
          + " reload failed: " + e.getMessage(), e);
    }
    return 0;
  }

  /**
   * Returns a renewer for the CA given by --ca-url and --root, or else by the bootstrapped
   * defaults. A daemon logs the steps at debug level instead of printing them.
   */
  private Renewer renewer(CommandLine line, Path certificateFile, Path keyFile, boolean daemon)
      throws Exception {
    CaFiles files = environment.files();
    ClientDefaults defaults = line.hasOption("ca-url") && line.hasOption("root") ? null
        : ClientDefaults.load(files);
    URI caUrl = caUrl(line, defaults, files);
    X509Certificate root = Pem.readCertificate(Path.of(line.hasOption("root")
        ? line.getOptionValue("root") : defaults.root()));
    if (defaults != null && !line.hasOption("root")
        && !Fingerprints.of(root).equals(defaults.fingerprint())) {
      throw new UsageException(defaults.root() + " does not match the bootstrapped fingerprint "
          + defaults.fingerprint() + ": run iidca bootstrap again");
    }
    return new Renewer(caUrl, root, certificateFile, keyFile, line.hasOption("rekey"),
        environment.clock(), daemon ? text -> LOG.debug("{}", text) : this::done);
  }

  private static RenewalSchedule schedule(CommandLine line) throws UsageException {
    if (!line.hasOption("expires-in")) {
      return RenewalSchedule.twoThirds();
    }
    Duration expiresIn;
    try {
      expiresIn = Durations.parse(line.getOptionValue("expires-in"));
    } catch (IllegalArgumentException e) {
      throw new UsageException("--expires-in: " + e.getMessage());
    }
    try {
      return RenewalSchedule.expiresWithin(expiresIn);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  private static RenewerHook hook(CommandLine line) throws UsageException {
    if (line.hasOption("signal") && !line.hasOption("pid-file")) {
      throw new UsageException("--signal needs --pid-file FILE naming the process to signal");
    }
    try {
      return new RenewerHook(line.getOptionValue("exec"),
          line.hasOption("pid-file") ? Path.of(line.getOptionValue("pid-file")) : null,
          line.getOptionValue("signal"));
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  /** Renews when due or forced, printing each step, and returns whether it renewed. */
  @SuppressWarnings("try") // the lock is held for the block, never referenced
  private boolean renewOnce(Renewer renewer, RenewalSchedule schedule, boolean force)
      throws Exception {
    try (Renewer.Lock lock = renewer.lock()) {
      Renewer.Held held = renewer.read();
      X509Certificate current = held.certificate();
      RenewalSchedule.Validity validity = RenewalSchedule.Validity.of(current, null);
      Instant now = environment.clock().instant();
      if (!force && !schedule.isDue(validity, now)) {
        err.println("Certificate " + renewer.certificateFile() + " is still fresh: serial "
            + Renewer.serial(current) + " is valid until " + validity.notAfter()
            + " and is renewed " + schedule.describe() + ", from "
            + schedule.renewalPoint(validity) + ". Pass --force to renew now.");
        return false;
      }
      Renewer.Renewal renewal = renewer.request(held);
      X509Certificate renewed = renewal.certificate();
      done("Renewed serial " + Renewer.serial(current) + ": new serial "
          + Renewer.serial(renewed) + ", valid until " + renewed.getNotAfter().toInstant()
          + (renewal.newKeys() == null ? "" : ", with a new key"));
      renewer.write(renewal);
      return true;
    }
  }

  @SuppressWarnings("try") // the lock is held for the block, never referenced
  private int runDaemon(Renewer renewer, RenewalSchedule schedule, RenewerHook hook,
      boolean force) throws Exception {
    // Fail at once on files that cannot be renewed, rather than retrying them forever.
    try (Renewer.Lock lock = renewer.lock()) {
      renewer.read();
    }
    RenewerDaemon daemon = new RenewerDaemon(renewer, schedule, hook, environment.clock(),
        RandomGenerator.getDefault(), RenewerDaemon.Listener.NONE);
    CountDownLatch finished = new CountDownLatch(1);
    if (environment.stop() != null) {
      Thread watcher = new Thread(() -> {
        try {
          environment.stop().await();
          daemon.stop();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "iidca-renew-stop");
      watcher.setDaemon(true);
      watcher.start();
    } else {
      RenewerSignals.install(daemon, finished);
    }
    done("Renewing " + renewer.certificateFile() + " in the background: SIGHUP renews at"
        + " once, SIGTERM stops");
    if (force) {
      daemon.renewNow();
    }
    try {
      daemon.run();
    } finally {
      finished.countDown();
    }
    return 0;
  }
}
