package io.iidca.ca.config;

/**
 * Where the CA stores certificates, registrations and used token ids.
 *
 * @param type {@code h2} (embedded file database, the default) or {@code postgresql}
 * @param url a JDBC URL; for h2 it may be omitted and defaults to {@code db/iidca} under the
 *     iidca path
 * @param user database user, or null
 * @param passwordFile file holding the database password, relative to the iidca path, or null
 */
public record DbConfig(String type, String url, String user, String passwordFile) {

  public static final DbConfig DEFAULT = new DbConfig("h2", null, null, null);

  public DbConfig validate(String key) {
    if (!type.equals("h2") && !type.equals("postgresql")) {
      throw new ConfigException(key + ".type", type, "supported types are h2 and postgresql");
    }
    if (type.equals("postgresql") && (url == null || !url.startsWith("jdbc:postgresql:"))) {
      throw new ConfigException(key + ".url", url,
          "a postgresql store needs a JDBC URL such as jdbc:postgresql://127.0.0.1:5432/iidca");
    }
    if (url != null && !url.startsWith("jdbc:")) {
      throw new ConfigException(key + ".url", url, "must be a JDBC URL starting with jdbc:");
    }
    return this;
  }
}
