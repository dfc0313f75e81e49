package io.iidca.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Tests of {@link Pem#blocks}, the PEM parser of every certificate and CSR that iidca reads. It
 * returns the blocks that Bouncy Castle's {@code PemReader} returns on the forms that tools
 * write, and a clear error where a block is broken.
 */
class PemBlocksTest {

  private static final byte[] DER = new byte[300];

  static {
    new Random(7).nextBytes(DER);
  }

  private static final String BODY = Base64.getMimeEncoder(64, new byte[] {'\n'})
      .encodeToString(DER);

  static List<String> texts() {
    String block = "-----BEGIN CERTIFICATE-----\n" + BODY + "\n-----END CERTIFICATE-----\n";
    String csr = "-----BEGIN CERTIFICATE REQUEST-----\n" + BODY
        + "\n-----END CERTIFICATE REQUEST-----\n";
    return List.of(
        "",
        "no PEM here\n",
        block,
        block + block,
        block.replace("\n", "\r\n"),
        block.replace("\n", "\r"),
        "Subject: CN=example\nIssuer: CN=example\n" + block + "trailing text\n",
        csr + block,
        block.substring(0, block.length() - 1),
        "-----BEGIN CERTIFICATE-----\n" + BODY.replace("\n", "") + "\n-----END CERTIFICATE-----",
        "-----BEGIN CERTIFICATE-----\n" + BODY.replace("\n", "\n  ")
            + "  \n-----END CERTIFICATE-----\n",
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n"
            + BODY + "\n-----END RSA PRIVATE KEY-----\n",
        "-----BEGIN CERTIFICATE-----   \n" + BODY + "\n-----END CERTIFICATE-----\n");
  }

  @ParameterizedTest
  @MethodSource("texts")
  void blocksMatchBouncyCastle(String text) throws IOException {
    List<Pem.Block> blocks = Pem.blocks(text);
    List<PemObject> expected = bouncyCastle(text);

    assertThat(blocks).hasSameSizeAs(expected);
    for (int i = 0; i < blocks.size(); i++) {
      assertThat(blocks.get(i).label()).isEqualTo(expected.get(i).getType());
      assertThat(blocks.get(i).content()).isEqualTo(expected.get(i).getContent());
    }
  }

  @Test
  void blocksDecodeContent() {
    List<Pem.Block> blocks = Pem.blocks("x\n-----BEGIN CERTIFICATE-----\n" + BODY
        + "\n-----END CERTIFICATE-----\n");

    assertThat(blocks).hasSize(1);
    assertThat(blocks.get(0).label()).isEqualTo("CERTIFICATE");
    assertThat(blocks.get(0).content()).isEqualTo(DER);
  }

  @Test
  void blocksSkipBeginInsideLine() {
    String text = "see -----BEGIN CERTIFICATE----- below\n-----BEGIN CERTIFICATE-----\n" + BODY
        + "\n-----END CERTIFICATE-----\n";

    assertThat(Pem.blocks(text)).hasSize(1);
  }

  @Test
  void blockRightAfterEndMarkerCounts() throws Exception {
    // cat a.pem b.pem, where a.pem has no final newline.
    PemTest.createCa();
    String first = Pem.encode(PemTest.intermediate);
    String text = first.substring(0, first.length() - 1) + Pem.encode(PemTest.root);

    assertThat(Pem.parseCertificates(text.getBytes(StandardCharsets.US_ASCII)))
        .containsExactly(PemTest.intermediate, PemTest.root);
  }

  @ParameterizedTest
  @MethodSource("textBeforeBegin")
  void beginAfterTextOnEndLineFails(String between) {
    String block = "-----BEGIN CERTIFICATE-----\n" + BODY + "\n-----END CERTIFICATE-----";
    String text = block + between + block + "\n";

    assertThatThrownBy(() -> Pem.blocks(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("invalid PEM: text between -----END CERTIFICATE----- and the next"
            + " -----BEGIN marker on one line; put each marker on a line of its own");
  }

  static List<String> textBeforeBegin() {
    return List.of(" ", "\t", "-", " and ");
  }

  @Test
  void textAfterEndMarkerWithoutBeginIsKept() {
    String block = "-----BEGIN CERTIFICATE-----\n" + BODY + "\n-----END CERTIFICATE-----";

    assertThat(Pem.blocks(block + "   \n" + block + " trailing\n")).hasSize(2);
  }

  @Test
  void blocksSkipBeginWithoutClosingDashes() {
    String text = "-----BEGIN CERTIFICATE\n-----BEGIN CERTIFICATE-----\n" + BODY
        + "\n-----END CERTIFICATE-----\n";

    assertThat(Pem.blocks(text)).hasSize(1);
  }

  @Test
  void missingEndNamesMarker() {
    String text = "-----BEGIN CERTIFICATE-----\n" + BODY + "\n";

    assertThatThrownBy(() -> Pem.blocks(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("invalid PEM: -----END CERTIFICATE----- not found");
  }

  @Test
  void endOfOtherLabelDoesNotClose() {
    String text = "-----BEGIN CERTIFICATE-----\n" + BODY + "\n-----END X509 CRL-----\n";

    assertThatThrownBy(() -> Pem.blocks(text))
        .hasMessage("invalid PEM: -----END CERTIFICATE----- not found");
  }

  @Test
  void invalidBase64NamesLabel() {
    String text = "-----BEGIN CERTIFICATE-----\n" + BODY.replace('A', '*')
        + "\n-----END CERTIFICATE-----\n";

    assertThatThrownBy(() -> Pem.blocks(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("invalid PEM: the base64 of the CERTIFICATE block is invalid");
  }

  @Test
  void nonAsciiCharacterIsInvalid() {
    // U+0141 cast to a byte would be 'A', a valid base64 character.
    String text = "-----BEGIN CERTIFICATE-----\n\u0141" + BODY.substring(1)
        + "\n-----END CERTIFICATE-----\n";

    assertThatThrownBy(() -> Pem.blocks(text))
        .hasMessageStartingWith("invalid PEM: the base64 of the CERTIFICATE block is invalid");
  }

  @Test
  void csrWithInvalidBase64IsInvalidRequest() {
    String pem = "-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----\n";

    assertThatThrownBy(() -> Pem.parseCsr(pem))
        .isInstanceOf(GeneralSecurityException.class)
        .hasMessageStartingWith("invalid certificate request: invalid PEM: the base64 of the"
            + " CERTIFICATE REQUEST block is invalid");
  }

  @Test
  void certificatesParseFromCrlfText() throws Exception {
    PemTest.createCa();
    String pem = Pem.encodeChain(List.of(PemTest.intermediate, PemTest.root));

    assertThat(Pem.parseCertificates(pem.replace("\n", "\r\n")
        .getBytes(StandardCharsets.US_ASCII)))
        .containsExactly(PemTest.intermediate, PemTest.root);
  }

  private static List<PemObject> bouncyCastle(String text) throws IOException {
    List<PemObject> blocks = new ArrayList<>();
    try (PemReader reader = new PemReader(new StringReader(text))) {
      for (PemObject block = reader.readPemObject(); block != null;
          block = reader.readPemObject()) {
        blocks.add(block);
      }
    }
    return blocks;
  }
}
