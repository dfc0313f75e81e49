package io.iidca.cli;

import io.iidca.ca.config.CaConfig;
import io.iidca.ca.config.ConfigFile;
import io.iidca.ca.config.ListenAddress;
import io.iidca.ca.pki.CaFiles;
import io.iidca.routes.ProcessSignals;
import io.iidca.routes.server.CaRuntime;
import io.iidca.routes.server.CaServer;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.concurrent.CountDownLatch;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code iidca serve}: runs the CA until SIGTERM or SIGINT. SIGHUP reads {@code config/ca.yaml}
 * again and serves its provisioners and name policy ({@link CaRuntime#reloadProvisioners}).
 */
final class ServeCommand extends Command {

  private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

  ServeCommand(Environment environment) {
    super(environment);
  }

  @Override
  String name() {
    return "serve";
  }

  @Override
  String arguments() {
    return "";
  }

  @Override
  String summary() {
    return "Run the CA's HTTPS API.";
  }

  @Override
  Options options() {
    return new Options()
        .addOption(Option.builder().longOpt("password-file").hasArg().argName("FILE")
            .desc("file whose first line decrypts the intermediate key (or set"
                + " IIDCA_PASSWORD)").get())
        .addOption(Option.builder().longOpt("address").hasArg().argName("HOST:PORT")
            .desc("listen here instead of the configured address").get())
        .addOption(Option.builder().longOpt("db").hasArg().argName("JDBC-URL")
            .desc("use this database instead of the configured one, such as"
                + " jdbc:postgresql://127.0.0.1:5432/iidca?user=iidca&password=...").get())
        .addOption(Option.builder().longOpt("refuse-newer-schema")
            .desc("stop instead of starting when a newer iidca migrated the database").get())
        .addOption(Option.builder().longOpt("help").desc("show this help").get());
  }

  @Override
  int run(CommandLine line) throws Exception {
    positional(line, 0, "no arguments");
    CaFiles files = environment.files();
    CaConfig config = config(files, line);
    char[] password = readPassword(line);
    CaRuntime runtime;
    try {
      runtime = CaRuntime.load(files, config, password, environment.clock(),
          line.hasOption("refuse-newer-schema"));
    } catch (GeneralSecurityException e) {
      throw new UsageException(e.getMessage());
    }
    CaServer server;
    try {
      server = CaServer.start(runtime, ListenAddress.parse(config.address()));
    } catch (Exception e) {
      runtime.close();
      throw e;
    }
    err.println("iidca: serving " + config.name() + " on https://"
        + new ListenAddress(ListenAddress.parse(config.address()).host(), server.port()));
    if (!ProcessSignals.handle("HUP", () -> reload(files, line, server.runtime()))) {
      LOG.warn("SIGHUP cannot be handled in this JVM (sun.misc.Signal is unavailable or the"
          + " signal is reserved): restart iidca serve to apply provisioner changes");
    }
    if (environment.stop() != null) {
      try {
        environment.stop().await();
      } finally {
        server.close();
      }
      return 0;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      stopped.countDown();
    }, "iidca-shutdown"));
    stopped.await();
    return 0;
  }

  /** Reads the configuration file, with the command line's --address and --db applied. */
  private static CaConfig config(CaFiles files, CommandLine line) throws IOException {
    CaConfig config = ConfigFile.load(files.base());
    if (line.hasOption("address")) {
      config = config.withAddress(line.getOptionValue("address"));
    }
    if (line.hasOption("db")) {
      config = config.withDb(DbCommands.fromUrl(line.getOptionValue("db")));
    }
    return config;
  }

  /**
   * Serves the provisioners of the configuration file as it is now, on SIGHUP. A file that
   * does not load leaves the running provisioners in place, and the error is logged.
   */
  static void reload(CaFiles files, CommandLine line, CaRuntime runtime) {
    Path file = ConfigFile.path(files.base());
    try {
      CaRuntime.Reload reload = runtime.reloadProvisioners(config(files, line));
      if (!reload.needRestart().isEmpty()) {
        LOG.warn("{} changed in {}: these settings apply when iidca serve starts again",
            String.join(", ", reload.needRestart()), file);
      }
    } catch (IOException | RuntimeException e) {
      LOG.error("cannot reload the provisioners from {}: {}; still serving the {} provisioners"
          + " loaded before", file, e.getMessage(), runtime.provisioners().size());
    }
  }
}
