package io.iidca.ca.pki;

import java.nio.file.Path;

/**
 * The layout under the iidca path ({@code $IIDCA_PATH}, default {@code ~/.iidca}): configuration
 * in {@code config/}, certificates in {@code certs/}, keys in {@code secrets/}, the embedded
 * database in {@code db/}.
 */
public record CaFiles(Path base) {

  public static final String ROOT_CERT = "certs/root_ca.crt";
  public static final String INTERMEDIATE_CERT = "certs/intermediate_ca.crt";
  public static final String ROOT_KEY = "secrets/root_ca_key";
  public static final String INTERMEDIATE_KEY = "secrets/intermediate_ca_key";

  public Path resolve(String relative) {
    Path path = Path.of(relative);
    return path.isAbsolute() ? path : base.resolve(relative);
  }

  public Path rootCertificate() {
    return base.resolve(ROOT_CERT);
  }

  public Path defaults() {
    return base.resolve("config").resolve("defaults.yaml");
  }

  public Path caConfig() {
    return base.resolve("config").resolve("ca.yaml");
  }

  public Path database() {
    return base.resolve("db").resolve("iidca");
  }
}
