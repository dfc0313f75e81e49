package io.iidca.ca.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.pki.Fingerprints;
import io.iidca.ca.pki.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class AwsCertificatesTest {

  private static final AwsCertificates PUBLISHED = AwsCertificates.published();

  private static final String OTHER_REGIONS_RSA_2014 = "A9CBE1410330DFC5";
  private static final String OTHER_REGIONS_DSA = "96BA48D9E55E1A67";

  static Stream<Arguments> expectedCandidates() {
    return Stream.of(
        // signature: 2024 reissues keep the 2014 "other regions" key, so both are candidates.
        Arguments.of("us-east-1", AwsSignatureForm.SIGNATURE,
            List.of("135CB634828253E460E2EBB8BB7DA4A06F501182", OTHER_REGIONS_RSA_2014)),
        Arguments.of("us-west-2", AwsSignatureForm.SIGNATURE,
            List.of("171F0FC4291B1F0A43DF56CEC82B72CF719C95B8", OTHER_REGIONS_RSA_2014)),
        // One upstream list labels ca-west-1's certificate ap-northeast-3, so it must stay out.
        Arguments.of("ap-northeast-3", AwsSignatureForm.SIGNATURE,
            List.of("1D3461C47841645386BD314AC47A32F7E7F91E5F", OTHER_REGIONS_RSA_2014)),
        Arguments.of("ca-west-1", AwsSignatureForm.SIGNATURE,
            List.of("0183E8BBDC1E", "09514886CCFD94703CF138CE10285A63E2A11E39")),
        Arguments.of("af-south-1", AwsSignatureForm.SIGNATURE, List.of("ABA67D9891ACDBC7")),
        Arguments.of("cn-north-1", AwsSignatureForm.SIGNATURE,
            List.of("90BBDEED78A443E3", "B48E31B3A8536B2F")),
        Arguments.of("us-gov-west-1", AwsSignatureForm.SIGNATURE,
            List.of("7B9C061778DF6FB9541F3BC3C6633F92D1822F0C", "87BD1E7ABCD8EED4")),
        Arguments.of("eusc-de-east-1", AwsSignatureForm.SIGNATURE, List.of("FC9B45E5D9A9448D")),
        Arguments.of("xx-future-1", AwsSignatureForm.SIGNATURE, List.of(OTHER_REGIONS_RSA_2014)),
        Arguments.of("us-east-1", AwsSignatureForm.RSA2048, List.of("B169CC401559A419")),
        Arguments.of("us-west-2", AwsSignatureForm.RSA2048, List.of("B64BDE5AD00924CC")),
        Arguments.of("ca-west-1", AwsSignatureForm.RSA2048, List.of("BC939F9207AC8663")),
        Arguments.of("cn-north-1", AwsSignatureForm.RSA2048, List.of("EB6B3395CB0D28C2")),
        Arguments.of("cn-northwest-1", AwsSignatureForm.RSA2048, List.of("FBB8B2C637065CDC")),
        Arguments.of("us-gov-east-1", AwsSignatureForm.RSA2048, List.of("B3C1EA1C4585ACBC")),
        Arguments.of("eusc-de-east-1", AwsSignatureForm.RSA2048, List.of("E0D1C518B955705B")),
        Arguments.of("xx-future-1", AwsSignatureForm.RSA2048, List.of()),
        Arguments.of("us-east-1", AwsSignatureForm.PKCS7, List.of(OTHER_REGIONS_DSA)),
        Arguments.of("us-gov-west-1", AwsSignatureForm.PKCS7, List.of(OTHER_REGIONS_DSA)),
        Arguments.of("af-south-1", AwsSignatureForm.PKCS7, List.of("A771B0AD41B8EECB")),
        Arguments.of("cn-northwest-1", AwsSignatureForm.PKCS7, List.of("F7C99D70D405644F")),
        Arguments.of("xx-future-1", AwsSignatureForm.PKCS7, List.of(OTHER_REGIONS_DSA)));
  }

  @ParameterizedTest
  @MethodSource("expectedCandidates")
  void candidatesPerRegionAndForm(String region, AwsSignatureForm form, List<String> serials) {
    assertThat(PUBLISHED.candidates(region, form))
        .extracting(Serials::of)
        .containsExactlyInAnyOrderElementsOf(serials);
  }

  @ParameterizedTest
  @CsvSource({
      "aws, us-east-1", "aws, eu-west-1", "aws, ap-southeast-7", "aws, mx-central-1",
      "aws, il-central-1", "aws-cn, cn-north-1", "aws-cn, cn-northwest-1",
      "aws-us-gov, us-gov-west-1", "aws-us-gov, us-gov-east-1", "eusc, eusc-de-east-1"})
  void everyPartitionHasCandidatesForEveryForm(String partition, String region) {
    for (AwsSignatureForm form : AwsSignatureForm.values()) {
      assertThat(PUBLISHED.candidates(region, form))
          .as("%s %s %s", partition, region, form)
          .isNotEmpty();
    }
  }

  @Test
  void reissuedCertificatesShareOneKey() {
    List<X509Certificate> candidates =
        PUBLISHED.candidates("us-east-1", AwsSignatureForm.SIGNATURE);

    assertThat(candidates).hasSize(2);
    assertThat(candidates)
        .extracting(c -> Fingerprints.of(c.getPublicKey()))
        .containsOnly(Fingerprints.of(candidates.get(0).getPublicKey()));
  }

  @ParameterizedTest
  @EnumSource(AwsSignatureForm.class)
  void keysFitTheirForm(AwsSignatureForm form) {
    for (X509Certificate certificate : allPublished(form)) {
      String algorithm = certificate.getPublicKey().getAlgorithm();
      String serial = Serials.of(certificate);
      switch (form) {
        case RSA2048 -> assertThat(rsaBits(certificate)).as(serial).isEqualTo(2048);
        case SIGNATURE -> assertThat(rsaBits(certificate)).as(serial).isEqualTo(1024);
        case PKCS7 -> assertThat(algorithm.equals("DSA")
            || serial.equals("F7C99D70D405644F")).as(serial + " " + algorithm).isTrue();
        default -> throw new AssertionError(form);
      }
    }
  }

  @Test
  void publishedCertificatesMatchPublicCopies() throws Exception {
    Set<String> fixtureFingerprints = new HashSet<>();
    try (Stream<Path> files = Files.walk(AwsFixtures.aws().resolve("certs"))) {
      for (Path file : files.filter(p -> p.toString().endsWith(".pem")).toList()) {
        for (X509Certificate certificate : Pem.readCertificates(file)) {
          fixtureFingerprints.add(Fingerprints.of(certificate));
        }
      }
    }
    List<X509Certificate> published = new ArrayList<>();
    for (AwsSignatureForm form : AwsSignatureForm.values()) {
      published.addAll(allPublished(form));
    }

    assertThat(published).as("certificate files shipped").hasSize(99);
    for (X509Certificate certificate : published) {
      assertThat(fixtureFingerprints).as(Serials.of(certificate))
          .contains(Fingerprints.of(certificate));
    }
  }

  @Test
  void publishedIsLoadedOnce() {
    assertThat(AwsCertificates.published()).isSameAs(PUBLISHED);
  }

  @ParameterizedTest
  @EnumSource(AwsSignatureForm.class)
  void additionalCertificatesApplyToEveryRegion(AwsSignatureForm form) {
    X509Certificate extra = TestSigner.generate("RSA", 2048).certificate;

    AwsCertificates withExtra = PUBLISHED.withAdditional(List.of(extra));

    for (String region : List.of("us-east-1", "cn-north-1", "eusc-de-east-1", "xx-future-1")) {
      assertThat(withExtra.candidates(region, form)).as(region).contains(extra)
          .containsAll(PUBLISHED.candidates(region, form));
      assertThat(PUBLISHED.candidates(region, form)).as(region).doesNotContain(extra);
    }
  }

  @Test
  void candidatesAreUnmodifiable() {
    List<X509Certificate> candidates = PUBLISHED.candidates("us-east-1",
        AwsSignatureForm.RSA2048);

    assertThatThrownBy(() -> candidates.add(candidates.get(0)))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void loadReadsPemFile(@TempDir Path dir) throws Exception {
    TestSigner first = TestSigner.generate("RSA", 2048);
    TestSigner second = TestSigner.generate("DSA", 2048);
    Path file = dir.resolve("extra.pem");
    Files.writeString(file, Pem.encode(first.certificate, second.certificate));

    assertThat(AwsCertificates.load(file))
        .containsExactly(first.certificate, second.certificate);
  }

  @Test
  void loadNamesMissingFile(@TempDir Path dir) {
    Path file = dir.resolve("absent.pem");

    assertThatThrownBy(() -> AwsCertificates.load(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("AWS certificate file " + file + " does not exist");
  }

  @Test
  void loadNamesFileWithoutCertificate(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("empty.pem");
    Files.writeString(file, "not a certificate\n", StandardCharsets.US_ASCII);

    assertThatThrownBy(() -> AwsCertificates.load(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("AWS certificate file " + file
            + " is not a valid PEM or DER certificate file: ");
  }

  @Test
  void resourceFilesAreNamedBySerial() {
    for (AwsSignatureForm form : AwsSignatureForm.values()) {
      for (String region : PUBLISHED.listedRegions(form)) {
        for (X509Certificate certificate : PUBLISHED.candidates(region, form)) {
          String resource = "certs/" + form.path() + "/" + Serials.of(certificate) + ".pem";
          assertThat(AwsCertificates.class.getResource(resource)).as(resource).isNotNull();
        }
      }
    }
  }

  private static List<X509Certificate> allPublished(AwsSignatureForm form) {
    Set<X509Certificate> all = new HashSet<>();
    for (String region : PUBLISHED.listedRegions(form)) {
      all.addAll(PUBLISHED.candidates(region, form));
    }
    return new ArrayList<>(all);
  }

  private static int rsaBits(X509Certificate certificate) {
    assertThat(certificate.getPublicKey()).isInstanceOf(RSAPublicKey.class);
    return ((RSAPublicKey) certificate.getPublicKey()).getModulus().bitLength();
  }
}
