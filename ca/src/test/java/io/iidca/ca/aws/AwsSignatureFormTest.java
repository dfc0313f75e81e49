package io.iidca.ca.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class AwsSignatureFormTest {

  @ParameterizedTest
  @CsvSource({
      "RSA2048, rsa2048",
      "SIGNATURE, signature",
      "PKCS7, pkcs7"})
  void pathIsMetadataName(AwsSignatureForm form, String path) {
    assertThat(form.path()).isEqualTo(path);
    assertThat(form).hasToString(path);
    assertThat(AwsSignatureForm.fromPath(path)).isEqualTo(form);
  }

  @ParameterizedTest
  @CsvSource({
      "RSA2048, RSA2048",
      "' pkcs7 ', PKCS7",
      "Signature, SIGNATURE"})
  void fromPathIgnoresCaseAndBlanks(String path, AwsSignatureForm expected) {
    assertThat(AwsSignatureForm.fromPath(path)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(strings = {"rsa", "document", "", "pkcs7/"})
  void fromPathRejectsUnknown(String path) {
    assertThatThrownBy(() -> AwsSignatureForm.fromPath(path))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("AWS signature form '" + path
            + "' is not supported: expected one of rsa2048, signature, pkcs7");
  }

  @ParameterizedTest
  @NullSource
  void fromPathRejectsNull(String path) {
    assertThatThrownBy(() -> AwsSignatureForm.fromPath(path))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("AWS signature form null is not supported");
  }

  @Test
  void formsAreTheThreeMetadataPaths() {
    assertThat(AwsSignatureForm.values())
        .extracting(AwsSignatureForm::path)
        .containsExactly("rsa2048", "signature", "pkcs7");
  }
}
