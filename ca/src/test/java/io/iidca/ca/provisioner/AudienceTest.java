package io.iidca.ca.provisioner;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Audience}: step-ca's token audience {@code https://HOST[:PORT]/1.0/sign#TYPE/NAME}. A
 * token is only good for the sign URL of this CA, under one of its configured names, over
 * HTTPS. The port is not compared.
 */
class AudienceTest {

  static final List<String> DNS_NAMES = List.of("ca.local", "127.0.0.1", "::1");

  /** Returns rows of the audience and the host, path, type and name it parses to. */
  static Stream<Arguments> parsed() {
    return Stream.of(
        Arguments.of("https://ca.local/1.0/sign#aws/AWS IID Provisioner", "ca.local",
            "/1.0/sign", "aws", "AWS IID Provisioner"),
        Arguments.of("https://CA.Local:9443/sign#AWS/aws", "ca.local", "/sign", "aws", "aws"),
        Arguments.of("https://[::1]:8443/1.0/sign#aws/x", "::1", "/1.0/sign", "aws", "x"),
        Arguments.of("https://ca.local/1.0/sign#aws/AWS%20IID%20Provisioner", "ca.local",
            "/1.0/sign", "aws", "AWS IID Provisioner"),
        Arguments.of("https://ca.local/1.0/sign#aws/a+b%20c", "ca.local", "/1.0/sign", "aws",
            "a+b c"),
        Arguments.of("https://ca.local/1.0/sign#aws/a/b", "ca.local", "/1.0/sign", "aws",
            "a/b"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("parsed")
  void parseSplitsUrlAndFragment(String text, String host, String path, String type,
      String name) {
    Audience audience = Audience.parse(text).orElseThrow();

    assertThat(audience.host()).isEqualTo(host);
    assertThat(audience.path()).isEqualTo(path);
    assertThat(audience.type()).isEqualTo(type);
    assertThat(audience.provisionerName()).isEqualTo(name);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "https://ca.local/1.0/sign",
      "https://ca.local/1.0/sign#",
      "https://ca.local/1.0/sign#aws",
      "https://ca.local/1.0/sign#aws/",
      "https://ca.local/1.0/sign#/name",
      "http://ca.local/1.0/sign#aws/x",
      "ftp://ca.local/1.0/sign#aws/x",
      "//ca.local/1.0/sign#aws/x",
      "https:///1.0/sign#aws/x",
      "https://ca local/1.0/sign#aws/x",
      "aws/x",
      "#aws/x",
      ""})
  void parseRejectsAudienceWithoutHttpsUrlOrFragment(String text) {
    assertThat(Audience.parse(text)).isEmpty();
  }

  /**
   * User information and queries have no place in a sign URL; accepting them would let an
   * audience carry a second host name ({@code https://ca.local@evil.example/...}) or extra
   * parameters that the CA never reads.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "https://ca.local@evil.example/1.0/sign#aws/x",
      "https://user:secret@ca.local/1.0/sign#aws/x",
      "https://@ca.local/1.0/sign#aws/x",
      "https://ca.local/1.0/sign?aws=x#aws/x",
      "https://ca.local/1.0/sign?#aws/x"})
  void parseRejectsUserInfoAndQuery(String text) {
    assertThat(Audience.parse(text)).isEmpty();
  }

  /** Go's net/url, which step's client uses, writes '%' in a fragment as %25. */
  @Test
  void parseDecodesEscapedPercent() {
    assertThat(Audience.parse("https://ca.local/1.0/sign#aws/100%25").orElseThrow()
        .provisionerName()).isEqualTo("100%");
    assertThat(Audience.parse("https://ca.local/1.0/sign#aws/%C3%BCber").orElseThrow()
        .provisionerName()).isEqualTo("\u00fcber");
  }

  @Test
  void ofEncodesOnlyPercent() {
    assertThat(Audience.of("https://ca.local", "aws", "100% AWS"))
        .isEqualTo("https://ca.local/1.0/sign#aws/100%25 AWS");
  }

  /**
   * ProvisionerConfig accepts names containing '%'. Audience documents that a name is taken
   * verbatim when it is not percent-encoded, so a '%' that starts no escape must not raise.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"100% AWS", "50%", "%zz", "a%2"})
  void parseKeepsNameWithStrayPercentVerbatim(String name) {
    Optional<Audience> audience = Audience.parse("https://ca.local/1.0/sign#aws/" + name);

    assertThat(audience).map(Audience::provisionerName).contains(name);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"AWS IID Provisioner", "a+b", "100%", "x%41y", "ünïcode"})
  void ofThenParseKeepsName(String name) {
    String text = Audience.of("https://ca.local:8443/", "aws", name);

    assertThat(Audience.parse(text)).map(Audience::provisionerName).contains(name);
  }

  @Test
  void ofAppendsSignPathAndFragment() {
    assertThat(Audience.of("https://ca.local:8443/", "aws", "AWS IID Provisioner"))
        .isEqualTo("https://ca.local:8443/1.0/sign#aws/AWS IID Provisioner");
    assertThat(Audience.of("https://ca.local", "aws", "x"))
        .isEqualTo("https://ca.local/1.0/sign#aws/x");
  }

  /** Returns rows of the audience and whether it is a sign URL of {@link #DNS_NAMES}. */
  static Stream<Arguments> signUrls() {
    return Stream.of(
        Arguments.of("https://ca.local/1.0/sign#aws/x", true),
        Arguments.of("https://ca.local/sign#aws/x", true),
        Arguments.of("https://ca.local:1/1.0/sign#aws/x", true),
        Arguments.of("https://ca.local:65535/sign#aws/x", true),
        Arguments.of("https://CA.LOCAL/1.0/sign#aws/x", true),
        Arguments.of("https://127.0.0.1:8443/1.0/sign#aws/x", true),
        Arguments.of("https://[::1]:8443/1.0/sign#aws/x", true),
        Arguments.of("https://[0:0:0:0:0:0:0:1]:8443/1.0/sign#aws/x", true),
        Arguments.of("https://[0::1]/1.0/sign#aws/x", true),
        Arguments.of("https://ca.local/1.0/renew#aws/x", false),
        Arguments.of("https://ca.local/1.0/sign/#aws/x", false),
        Arguments.of("https://ca.local/1.0/sign/extra#aws/x", false),
        Arguments.of("https://ca.local/#aws/x", false),
        Arguments.of("https://ca.local#aws/x", false),
        Arguments.of("https://ca.local/2.0/sign#aws/x", false),
        Arguments.of("https://ca.local/1.0/../1.0/sign#aws/x", false),
        Arguments.of("https://evil.example/1.0/sign#aws/x", false),
        Arguments.of("https://ca.local.evil.example/1.0/sign#aws/x", false),
        Arguments.of("https://evil.ca.local/1.0/sign#aws/x", false),
        Arguments.of("https://127.0.0.2/1.0/sign#aws/x", false),
        Arguments.of("https://[::2]/1.0/sign#aws/x", false));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("signUrls")
  void isSignUrlOfComparesHostAndPathOnly(String text, boolean expected) {
    Audience audience = Audience.parse(text).orElseThrow();

    assertThat(audience.isSignUrlOf(DNS_NAMES)).isEqualTo(expected);
  }

  @Test
  void configuredNamesIgnoreCase() {
    Audience audience = Audience.parse("https://ca.local/1.0/sign#aws/x").orElseThrow();

    assertThat(audience.isSignUrlOf(List.of("CA.Local"))).isTrue();
    assertThat(audience.isSignUrlOf(List.of())).isFalse();
  }
}
