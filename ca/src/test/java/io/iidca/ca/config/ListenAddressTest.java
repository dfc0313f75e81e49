package io.iidca.ca.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link ListenAddress}: HOST:PORT as operators write it, with bracketed IPv6 hosts. */
class ListenAddressTest {

  static Stream<Arguments> validAddresses() {
    return Stream.of(
        Arguments.of(":443", "0.0.0.0", 443, "0.0.0.0:443"),
        Arguments.of("127.0.0.1:8443", "127.0.0.1", 8443, "127.0.0.1:8443"),
        Arguments.of("[::1]:8443", "::1", 8443, "[::1]:8443"),
        Arguments.of("[fd00::1]:0", "fd00::1", 0, "[fd00::1]:0"),
        Arguments.of("localhost:0", "localhost", 0, "localhost:0"),
        Arguments.of("ca.example.com:65535", "ca.example.com", 65535, "ca.example.com:65535"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validAddresses")
  void parseReadsHostAndPort(String text, String host, int port, String written) {
    ListenAddress address = ListenAddress.parse(text);

    assertThat(address.host()).isEqualTo(host);
    assertThat(address.port()).isEqualTo(port);
    assertThat(address.toString()).isEqualTo(written);
    assertThat(ListenAddress.parse(address.toString())).isEqualTo(address);
  }

  @ParameterizedTest(name = "''{0}''")
  @ValueSource(strings = {"", "443", "127.0.0.1", "localhost:", "::1:8443", "[::1]", "[::1:8443",
      "::1]:8443", "host:65536", "host:-1", "host:https", "host:99999999999", "[]:443",
      "host:+443", ":+443", "[ca.local]:443", "ca]:443", "host: 443"})
  void parseRejectsInvalidAddressNamingIt(String text) {
    assertThatThrownBy(() -> ListenAddress.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("invalid address '" + text
            + "': use HOST:PORT such as :443, 127.0.0.1:8443 or [::1]:8443");
  }
}
