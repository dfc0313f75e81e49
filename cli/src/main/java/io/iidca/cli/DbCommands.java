package io.iidca.cli;

import io.iidca.ca.config.CaConfig;
import io.iidca.ca.config.ConfigException;
import io.iidca.ca.config.ConfigFile;
import io.iidca.ca.config.DbConfig;
import io.iidca.ca.pki.CaFiles;
import io.iidca.ca.store.JdbcStore;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code iidca db migrate|check|compact}: apply or inspect the schema of the CA's database, the
 * configured one or the one {@code --db} names, or compact an embedded one. Run them while no
 * CA node uses an embedded H2 database, which allows one process at a time.
 */
final class DbCommands {

  private DbCommands() {}

  /** Builds a store configuration from a JDBC URL given on the command line. */
  static DbConfig fromUrl(String url) {
    DbConfig db = new DbConfig(url.startsWith("jdbc:postgresql:") ? "postgresql" : "h2", url,
        null, null);
    try {
      return db.validate("--db");
    } catch (ConfigException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** Returns the options of every db command: {@code --db} and {@code --help}. */
  static Options commonOptions() {
    return new Options()
        .addOption(Option.builder().longOpt("db").hasArg().argName("JDBC-URL")
            .desc("the database instead of the configured one").get())
        .addOption(Option.builder().longOpt("help").desc("show this help").get());
  }

  static Options options() {
    return commonOptions()
        .addOption(Option.builder().longOpt("refuse-newer-schema")
            .desc("fail when a newer iidca migrated the database").get());
  }

  static DbConfig database(Environment environment, CommandLine line) throws Exception {
    if (line.hasOption("db")) {
      try {
        return fromUrl(line.getOptionValue("db"));
      } catch (IllegalArgumentException e) {
        throw new UsageException(e.getMessage());
      }
    }
    CaConfig config = ConfigFile.load(environment.files().base());
    return config.db();
  }

  /** {@code iidca db check}: exits 0 when the schema is current, 1 when it is not. */
  static final class Check extends Command {

    Check(Environment environment) {
      super(environment);
    }

    @Override
    String name() {
      return "db check";
    }

    @Override
    String arguments() {
      return "";
    }

    @Override
    String summary() {
      return "Check that the database answers and its schema is current.";
    }

    @Override
    Options options() {
      return DbCommands.options();
    }

    @Override
    int run(CommandLine line) throws Exception {
      positional(line, 0, "no arguments");
      CaFiles files = environment.files();
      JdbcStore.SchemaStatus status = JdbcStore.inspect(database(environment, line), files);
      out.println("schema version: " + (status.current() == null ? "none" : status.current()));
      out.println("pending migrations: " + status.pending());
      out.println("versions from a newer iidca: " + status.newer());
      if (!status.pending().isEmpty()) {
        err.println("iidca db check: the schema is behind; run iidca db migrate");
        return 1;
      }
      if (!status.newer().isEmpty() && line.hasOption("refuse-newer-schema")) {
        err.println("iidca db check: a newer iidca migrated this database; upgrade iidca");
        return 1;
      }
      return 0;
    }
  }

  /** {@code iidca db migrate}: applies pending migrations. */
  static final class Migrate extends Command {

    Migrate(Environment environment) {
      super(environment);
    }

    @Override
    String name() {
      return "db migrate";
    }

    @Override
    String arguments() {
      return "";
    }

    @Override
    String summary() {
      return "Apply pending schema migrations to the database.";
    }

    @Override
    Options options() {
      return DbCommands.options();
    }

    @Override
    int run(CommandLine line) throws Exception {
      positional(line, 0, "no arguments");
      CaFiles files = environment.files();
      DbConfig db = database(environment, line);
      try (JdbcStore store = JdbcStore.open(db, files, line.hasOption("refuse-newer-schema"))) {
        JdbcStore.SchemaStatus status = JdbcStore.inspect(db, files);
        done("Schema version: " + status.current());
      }
      return 0;
    }
  }

  /** {@code iidca db compact}: rewrites the embedded database into a compact file. */
  static final class Compact extends Command {

    Compact(Environment environment) {
      super(environment);
    }

    @Override
    String name() {
      return "db compact";
    }

    @Override
    String arguments() {
      return "";
    }

    @Override
    String summary() {
      return "Compact the embedded database's file while the CA is stopped.";
    }

    @Override
    Options options() {
      return DbCommands.commonOptions();
    }

    @Override
    int run(CommandLine line) throws Exception {
      positional(line, 0, "no arguments");
      DbConfig db = database(environment, line);
      JdbcStore.Compaction compaction;
      try {
        compaction = JdbcStore.compactEmbedded(db, environment.files());
      } catch (IllegalArgumentException e) {
        throw new UsageException(e.getMessage());
      }
      done(String.format(java.util.Locale.ROOT, "Compacted %s: %.1f MB to %.1f MB",
          compaction.file(), compaction.bytesBefore() / 1e6, compaction.bytesAfter() / 1e6));
      return 0;
    }
  }
}
