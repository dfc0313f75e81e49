package io.iidca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Main#preferP256KeyShare()}: client commands offer secp256r1 first and x25519 second,
 * and a value that the user set is kept. The system property is restored after each test.
 */
class ClientNamedGroupsTest {

  private static final String PROPERTY = "jdk.tls.namedGroups";
  private String saved;

  @BeforeEach
  void save() {
    saved = System.getProperty(PROPERTY);
  }

  @AfterEach
  void restore() {
    if (saved == null) {
      System.clearProperty(PROPERTY);
    } else {
      System.setProperty(PROPERTY, saved);
    }
  }

  @Test
  void unsetPropertyGetsP256First() {
    System.clearProperty(PROPERTY);

    Main.preferP256KeyShare();

    List<String> groups = List.of(System.getProperty(PROPERTY).split(","));
    assertThat(groups.get(0)).isEqualTo("secp256r1");
    assertThat(groups.get(1)).isEqualTo("x25519");
    assertThat(groups).containsExactlyInAnyOrder("secp256r1", "x25519", "secp384r1",
        "secp521r1", "x448", "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192");
  }

  @Test
  void userSetPropertyIsKept() {
    System.setProperty(PROPERTY, "x25519");

    Main.preferP256KeyShare();

    assertThat(System.getProperty(PROPERTY)).isEqualTo("x25519");
  }
}
