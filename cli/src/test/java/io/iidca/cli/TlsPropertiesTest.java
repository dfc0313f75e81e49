package io.iidca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The JDK's TLS system properties that {@link Main} sets. {@link Main#preferP256KeyShare()}:
 * client commands offer secp256r1 first and x25519 second. {@link Main#offerNoSessionTickets()}:
 * {@code iidca serve} switches off the TLS 1.3 extensions of session tickets and resumption
 * (tests/e2e/serve-tls.sh checks the effect on a running CA with openssl). Both keep a value
 * that the user set. The properties are restored after each test.
 */
class TlsPropertiesTest {

  private static final String NAMED_GROUPS = "jdk.tls.namedGroups";
  private static final String SERVER_EXTENSIONS = "jdk.tls.server.disableExtensions";
  private final Map<String, String> saved = new HashMap<>();

  @BeforeEach
  void save() {
    for (String property : List.of(NAMED_GROUPS, SERVER_EXTENSIONS)) {
      saved.put(property, System.getProperty(property));
    }
  }

  @AfterEach
  void restore() {
    saved.forEach((property, value) -> {
      if (value == null) {
        System.clearProperty(property);
      } else {
        System.setProperty(property, value);
      }
    });
  }

  @Test
  void unsetPropertyGetsP256First() {
    System.clearProperty(NAMED_GROUPS);

    Main.preferP256KeyShare();

    List<String> groups = List.of(System.getProperty(NAMED_GROUPS).split(","));
    assertThat(groups.get(0)).isEqualTo("secp256r1");
    assertThat(groups.get(1)).isEqualTo("x25519");
    assertThat(groups).containsExactlyInAnyOrder("secp256r1", "x25519", "secp384r1",
        "secp521r1", "x448", "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192");
  }

  @Test
  void userSetGroupsAreKept() {
    System.setProperty(NAMED_GROUPS, "x25519");

    Main.preferP256KeyShare();

    assertThat(System.getProperty(NAMED_GROUPS)).isEqualTo("x25519");
  }

  @Test
  void unsetPropertyDisablesBothPskExtensions() {
    System.clearProperty(SERVER_EXTENSIONS);

    Main.offerNoSessionTickets();

    assertThat(System.getProperty(SERVER_EXTENSIONS).split(","))
        .containsExactlyInAnyOrder("pre_shared_key", "psk_key_exchange_modes");
  }

  @Test
  void operatorExtensionsAreKept() {
    System.setProperty(SERVER_EXTENSIONS, "status_request");

    Main.offerNoSessionTickets();

    assertThat(System.getProperty(SERVER_EXTENSIONS)).isEqualTo("status_request");
  }

  @Test
  void emptyOperatorValueIsKept() {
    System.setProperty(SERVER_EXTENSIONS, "");

    Main.offerNoSessionTickets();

    assertThat(System.getProperty(SERVER_EXTENSIONS)).isEmpty();
  }
}
