package io.iidca.ca.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.util.JSONObjectUtils;
import io.iidca.ca.testing.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Real Compute Engine identity tokens, captured from public sources with the Google key that
 * signed each, under {@code gcp/} in the fixtures root that {@link Fixtures} finds. Each folder
 * contains {@code token.jwt}, {@code payload.json} and {@code google-jwk.json}, some also
 * {@code google-jwks.json}. A missing folder fails the test instead of skipping it.
 */
public final class GcpFixtures {

  private GcpFixtures() {}

  /** Returns the {@code gcp} fixtures folder, failing the test if it does not exist. */
  public static Path root() {
    return Fixtures.cloudFolder("gcp", "GCP");
  }

  /** Returns the names of the fixture folders, sorted; at least one. */
  public static List<String> names() {
    try (Stream<Path> folders = Files.list(root())) {
      List<String> names = folders.filter(Files::isDirectory)
          .map(folder -> folder.getFileName().toString()).sorted().toList();
      assertThat(names).as("GCP fixture folders").isNotEmpty();
      return names;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static Path path(String name, String file) {
    return Fixtures.file(root(), name, file);
  }

  /** Returns the token text without surrounding white space. */
  public static String token(String name) {
    return read(name, "token.jwt").strip();
  }

  public static Map<String, Object> payload(String name) {
    try {
      return JSONObjectUtils.parse(read(name, "payload.json"));
    } catch (ParseException e) {
      throw new IllegalStateException("payload.json of " + name + " is not JSON", e);
    }
  }

  /** Returns the key set of {@code google-jwks.json} if present, else the single JWK. */
  public static JWKSet keys(String name) {
    try {
      if (Files.exists(root().resolve(name).resolve("google-jwks.json"))) {
        return JWKSet.parse(read(name, "google-jwks.json"));
      }
      return new JWKSet(JWK.parse(read(name, "google-jwk.json")));
    } catch (ParseException e) {
      throw new IllegalStateException("Google key of " + name + " does not parse", e);
    }
  }

  private static String read(String name, String file) {
    return Fixtures.readString(path(name, file));
  }
}
