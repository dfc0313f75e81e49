package io.iidca.ca.store;

import io.iidca.ca.config.DbConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * A PostgreSQL server that a test owns. Where a Docker engine answers, a Testcontainers
 * container; otherwise a private cluster made with the locally installed server's
 * {@code initdb} in a temporary directory, listening on 127.0.0.1 on a free port, so that a
 * test can stop and start it without touching any other database. As root the cluster runs as
 * the {@code postgres} user, because PostgreSQL refuses to run as root.
 *
 * <p>{@link #open()} returns empty when neither is available; the project's test script
 * installs Debian's postgresql package, so in CI the local cluster is always used.
 */
public final class LocalPostgres implements TestDatabase {

  private static final String DATABASE = "iidca";
  private static final String USER = "iidca";
  private static final String PASSWORD = "iidca-test";

  private final Path directory;
  private final Path binaries;
  private final int port;
  private final PostgreSQLContainer container;

  private LocalPostgres(Path directory, Path binaries, int port,
      PostgreSQLContainer container) {
    this.directory = directory;
    this.binaries = binaries;
    this.port = port;
    this.container = container;
  }

  /** Starts a server, or returns empty when this machine has no way to run one. */
  public static Optional<TestDatabase> open() throws Exception {
    if (dockerAvailable()) {
      PostgreSQLContainer container = new PostgreSQLContainer("postgres:15-alpine")
          .withDatabaseName(DATABASE).withUsername(USER).withPassword(PASSWORD);
      container.start();
      return Optional.of(new LocalPostgres(null, null, 0, container));
    }
    Optional<Path> binaries = installedBinaries();
    if (binaries.isEmpty()) {
      return Optional.empty();
    }
    Path directory = Files.createTempDirectory("iidca-postgres-");
    LocalPostgres postgres = new LocalPostgres(directory, binaries.get(), freePort(), null);
    postgres.initialize();
    postgres.start();
    postgres.createDatabase();
    return Optional.of(postgres);
  }

  private static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  private static Optional<Path> installedBinaries() throws IOException {
    Path root = Path.of("/usr/lib/postgresql");
    if (!Files.isDirectory(root)) {
      return Optional.empty();
    }
    try (Stream<Path> versions = Files.list(root)) {
      return versions.map(version -> version.resolve("bin"))
          .filter(bin -> Files.isExecutable(bin.resolve("initdb")))
          .max(Comparator.comparing(Path::toString));
    }
  }

  @Override
  public DbConfig config() {
    String url = container != null ? container.getJdbcUrl()
        : "jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE;
    return new DbConfig("postgresql", url + (url.contains("?") ? "&" : "?") + "user=" + USER
        + "&password=" + PASSWORD, null, null);
  }

  @Override
  public void stop() throws Exception {
    if (container != null) {
      container.getDockerClient().pauseContainerCmd(container.getContainerId()).exec();
      return;
    }
    run(binaries.resolve("pg_ctl").toString(), "-D", data().toString(), "-m", "immediate",
        "-w", "stop");
  }

  @Override
  public void start() throws Exception {
    if (container != null) {
      container.getDockerClient().unpauseContainerCmd(container.getContainerId()).exec();
      return;
    }
    run(binaries.resolve("pg_ctl").toString(), "-D", data().toString(), "-l",
        directory.resolve("server.log").toString(), "-w", "-t", "60", "-o",
        "-p " + port + " -k " + directory + " -c listen_addresses=127.0.0.1"
            + " -c max_connections=100 -c fsync=on", "start");
  }

  @Override
  public void close() throws IOException {
    if (container != null) {
      container.stop();
      return;
    }
    try {
      run(binaries.resolve("pg_ctl").toString(), "-D", data().toString(), "-m", "immediate",
          "-w", "stop");
    } catch (IOException alreadyStopped) {
      // A test that failed while the server was stopped leaves nothing to stop.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }

  private Path data() {
    return directory.resolve("data");
  }

  private void initialize() throws Exception {
    if (isRoot()) {
      run("chown", "postgres", directory.toString());
    }
    Path passwordFile = directory.resolve("superuser-password");
    Files.writeString(passwordFile, PASSWORD, StandardCharsets.UTF_8);
    if (isRoot()) {
      run("chown", "postgres", passwordFile.toString());
    }
    run(binaries.resolve("initdb").toString(), "-D", data().toString(), "-U", USER,
        "--auth=scram-sha-256", "--pwfile=" + passwordFile, "-E", "UTF8", "--no-sync");
  }

  private void createDatabase() throws Exception {
    run(binaries.resolve("createdb").toString(), "-h", "127.0.0.1", "-p",
        String.valueOf(port), "-U", USER, DATABASE);
  }

  /** Runs a PostgreSQL program, as the postgres user when this process is root. */
  private void run(String... command) throws IOException, InterruptedException {
    List<String> line = new ArrayList<>();
    boolean asPostgres = isRoot() && !command[0].equals("chown");
    if (asPostgres) {
      line.addAll(List.of("runuser", "-u", "postgres", "--", "env",
          "PGPASSWORD=" + PASSWORD));
    }
    line.addAll(List.of(command));
    ProcessBuilder builder = new ProcessBuilder(line).redirectErrorStream(true);
    if (!asPostgres) {
      builder.environment().put("PGPASSWORD", PASSWORD);
    }
    if (directory != null) {
      builder.directory(directory.toFile());
    }
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + output);
    }
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
