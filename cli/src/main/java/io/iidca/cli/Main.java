package io.iidca.cli;

import io.iidca.routes.client.CaRejection;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The {@code iidca} command: dispatches to a subcommand and maps failures to exit statuses:
 * 0 success, 1 failure, 2 usage error, 3 the CA rejected the request, so that sending it again
 * gets the same response ({@link CaRejection}). Messages name the value and what to do; stack traces
 * appear only with {@code IIDCA_DEBUG=1}.
 */
public final class Main {

  private static final Map<String, Function<Environment, Command>> COMMANDS = commands();

  private Main() {}

  /**
   * The TLS named groups of client commands, in order of preference: the JDK 17 defaults with
   * secp256r1 moved before x25519. The OpenJDK 17.0.15 client sends key shares for both. A CA
   * on the JDK's TLS takes the first one in the client's order, P-256, which its native
   * provider (ACCP) computes, instead of X25519, which the JDK computes in Java. A CA on
   * BoringSSL takes X25519, its own preference, from the same ClientHello without a retry.
   */
  static final String CLIENT_NAMED_GROUPS = "secp256r1,x25519,secp384r1,secp521r1,x448,"
      + "ffdhe2048,ffdhe3072,ffdhe4096,ffdhe6144,ffdhe8192";

  /**
   * The TLS 1.3 extensions that {@code iidca serve} switches off, as names of the JDK's system
   * property {@code jdk.tls.server.disableExtensions}. Without them the JDK's server neither
   * sends a session ticket after a full handshake nor accepts one for resumption. iidca's
   * clients are commands that enroll or renew once and exit, so none comes back with a ticket,
   * and a boot storm of new instances would otherwise pay for thousands of unused tickets.
   */
  static final String SERVER_DISABLED_EXTENSIONS = "pre_shared_key,psk_key_exchange_modes";

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("serve")) {
      offerNoSessionTickets();
    } else {
      preferP256KeyShare();
    }
    int status = run(args, Environment.system());
    if (status != 0 || !Arrays.asList(args).contains("serve")) {
      stopHttpClientSelectors();
      System.exit(status);
    }
  }

  /**
   * Sets the system property {@code jdk.tls.namedGroups} to {@link #CLIENT_NAMED_GROUPS} unless
   * it is set already, as by {@code JAVA_OPTS}. JDK 17 reads it once, when its TLS classes
   * load. It has no per-connection setting, because {@code SSLParameters.setNamedGroups}
   * exists only from JDK 20.
   */
  static void preferP256KeyShare() {
    if (System.getProperty("jdk.tls.namedGroups") == null) {
      System.setProperty("jdk.tls.namedGroups", CLIENT_NAMED_GROUPS);
    }
  }

  /**
   * Sets the system property {@code jdk.tls.server.disableExtensions} to
   * {@link #SERVER_DISABLED_EXTENSIONS} unless it is set already, as by {@code JAVA_OPTS}. An
   * empty value there keeps every extension. JDK 17 reads it once, when its TLS classes load.
   */
  static void offerNoSessionTickets() {
    if (System.getProperty("jdk.tls.server.disableExtensions") == null) {
      System.setProperty("jdk.tls.server.disableExtensions", SERVER_DISABLED_EXTENSIONS);
    }
  }

  /**
   * Interrupts the selector threads of the JDK's HTTP clients, which ends them, so that the JVM
   * exits at once. HotSpot 17 waits at exit for threads that are blocked in native code, such
   * as a selector in epoll_wait, for about 300 ms (measured on {@code iidca certificate}), and
   * {@code HttpClient.close()} exists only from JDK 21. The thread name is the one that the
   * JDK's {@code HttpClientImpl} gives; with another name, nothing is interrupted.
   */
  private static void stopHttpClientSelectors() {
    for (Thread thread : Thread.getAllStackTraces().keySet()) {
      String name = thread.getName();
      if (thread.isDaemon() && name.startsWith("HttpClient-")
          && name.endsWith("-SelectorManager")) {
        thread.interrupt();
        try {
          thread.join(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  private static Map<String, Function<Environment, Command>> commands() {
    Map<String, Function<Environment, Command>> commands = new LinkedHashMap<>();
    commands.put("init", InitCommand::new);
    commands.put("provisioner add", ProvisionerCommands.Add::new);
    commands.put("provisioner update", ProvisionerCommands.Update::new);
    commands.put("provisioner list", ProvisionerCommands.ListProvisioners::new);
    commands.put("provisioner remove", ProvisionerCommands.Remove::new);
    commands.put("serve", ServeCommand::new);
    commands.put("bootstrap", BootstrapCommand::new);
    commands.put("certificate", CertificateCommand::new);
    commands.put("renew", RenewCommand::new);
    commands.put("inspect", InspectCommand::new);
    commands.put("fingerprint", FingerprintCommand::new);
    commands.put("identity verify aws", IdentityVerifyCommand::new);
    commands.put("identity verify gcp", CloudIdentityVerifyCommand::gcp);
    commands.put("identity verify azure", CloudIdentityVerifyCommand::azure);
    commands.put("revoke", RevokeCommand::new);
    commands.put("instance list", InstanceCommands.ListInstances::new);
    commands.put("instance reset", InstanceCommands.Reset::new);
    commands.put("db migrate", DbCommands.Migrate::new);
    commands.put("db check", DbCommands.Check::new);
    commands.put("db compact", DbCommands.Compact::new);
    commands.put("version", VersionCommand::new);
    return commands;
  }

  /** Runs a command line; returns the exit status. */
  static int run(String[] args, Environment environment) {
    Command command = null;
    String[] rest = args;
    for (int words = 3; words >= 1 && command == null; words--) {
      if (args.length >= words) {
        String key = String.join(" ", Arrays.copyOfRange(args, 0, words));
        Function<Environment, Command> factory = COMMANDS.get(key);
        if (factory != null) {
          command = factory.apply(environment);
          rest = Arrays.copyOfRange(args, words, args.length);
        }
      }
    }
    if (command == null) {
      return usage(args, environment);
    }
    try {
      return command.execute(rest);
    } catch (UsageException e) {
      environment.err().println("iidca " + command.name() + ": " + e.getMessage());
      environment.err().println("Run iidca " + command.name() + " --help for usage.");
      return 2;
    } catch (Exception e) {
      // Configuration, identity, I/O and enrollment failures all carry a message for the user.
      environment.err().println("iidca " + command.name() + ": " + message(e));
      debug(e, environment);
      return e instanceof CaRejection rejection && rejection.rejectedByCa() ? 3 : 1;
    }
  }

  private static String message(Throwable e) {
    String message = e.getMessage();
    if (e instanceof java.nio.file.FileAlreadyExistsException exists) {
      return exists.getFile() + ": " + (exists.getReason() == null ? "file exists"
          : exists.getReason());
    }
    if (e instanceof java.nio.file.NoSuchFileException missing) {
      return missing.getFile() + ": file not found";
    }
    if (e instanceof java.nio.file.AccessDeniedException denied) {
      return denied.getFile() + ": permission denied";
    }
    return message == null ? e.getClass().getSimpleName() : message;
  }

  private static void debug(Throwable e, Environment environment) {
    if ("1".equals(environment.variable("IIDCA_DEBUG"))) {
      e.printStackTrace(environment.err());
    }
  }

  private static int usage(String[] args, Environment environment) {
    var err = environment.err();
    boolean askedForHelp = args.length == 0 || List.of("help", "--help", "-h").contains(args[0]);
    if (!askedForHelp) {
      err.println("iidca: unknown command '" + String.join(" ", args.length > 2
          ? Arrays.copyOfRange(args, 0, 2) : args) + "'");
    }
    var stream = askedForHelp ? environment.out() : err;
    stream.println("Usage: iidca COMMAND [options] [arguments]");
    stream.println();
    stream.println("Commands:");
    for (Map.Entry<String, Function<Environment, Command>> entry : COMMANDS.entrySet()) {
      stream.printf("  %-22s %s%n", entry.getKey(), entry.getValue().apply(environment)
          .summary());
    }
    stream.println();
    stream.println("Run iidca COMMAND --help for a command's options. Files live under"
        + " $IIDCA_PATH (default ~/.iidca).");
    return askedForHelp ? 0 : 2;
  }
}
