package io.iidca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.iidca.ca.pki.KeyFiles;
import io.iidca.ca.pki.KeySpec;
import io.iidca.routes.client.Renewer;
import io.iidca.testkit.pki.TestCa;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Errors that the commands find before they contact a CA: each names the value that failed and
 * the fix, and exits 2 for a usage error or 1 for a failure. No CA runs here, and every
 * URL points at loopback.
 */
class CliErrorsTest {

  @TempDir
  Path directory;

  @ParameterizedTest(name = "init --dns {0}")
  @ValueSource(strings = {"bad name!", "ca.local:8443", "-ca.local", "https://ca.local"})
  void initRejectsInvalidDnsName(String dns) throws Exception {
    Path password = Files.writeString(directory.resolve("pw"), "secret\n",
        StandardCharsets.UTF_8);
    Path iidcaPath = directory.resolve("ca");
    CliRunner cli = new CliRunner(iidcaPath.toString());

    CliRunner.Result result = cli.run("init", "--name", "My CA", "--dns", "127.0.0.1", "--dns",
        dns, "--address", "127.0.0.1:8443", "--password-file", password.toString());

    assertThat(result.status()).as(result.err()).isEqualTo(2);
    assertThat(result.err()).contains("invalid value '" + dns + "' for --dns: it is neither"
        + " a DNS name nor an IP address; give a name of letters, digits, hyphens and dots");
    assertThat(result.err()).doesNotContain("dnsNames");
    assertThat(iidcaPath.resolve("config/defaults.yaml")).doesNotExist();
    assertThat(iidcaPath.resolve("config/ca.yaml")).doesNotExist();
  }

  @Test
  void initAcceptsNamesAndAddresses() throws Exception {
    Path password = Files.writeString(directory.resolve("pw"), "secret\n",
        StandardCharsets.UTF_8);
    CliRunner cli = new CliRunner(directory.resolve("ca").toString());

    CliRunner.Result result = cli.run("init", "--name", "My CA", "--dns", "CA.Example.com",
        "--dns", "localhost,127.0.0.1,::1", "--address", "127.0.0.1:8443", "--password-file",
        password.toString());

    assertThat(result.status()).as(result.err()).isZero();
  }

  @ParameterizedTest(name = "certificate --ca-url {0}")
  @CsvSource(delimiter = '|', value = {
      "http://127.0.0.1:1 | --ca-url http://127.0.0.1:1 must be an https:// URL with a host",
      "not a url | --ca-url not a url is not a URL: give the CA's https:// URL",
      "https://bad_host:1 | --ca-url https://bad_host:1 must be an https:// URL with a host",
  })
  void certificateRejectsCaUrl(String caUrl, String message) {
    CliRunner cli = new CliRunner(directory.resolve("client").toString());

    CliRunner.Result result = cli.run("certificate", "app.internal",
        directory.resolve("app.crt").toString(), directory.resolve("app.key").toString(),
        "--provisioner", "aws", "--ca-url", caUrl, "--root",
        directory.resolve("root_ca.crt").toString());

    assertThat(result.status()).as(result.err()).isEqualTo(2);
    assertThat(result.err()).contains(message);
    assertThat(directory.resolve("app.key")).doesNotExist();
  }

  @Test
  void revokeChecksKeyBeforeRequest() throws Exception {
    TestCa ca = TestCa.create(directory.resolve("ca"));
    Path root = ca.files().rootCertificate();
    Path key = directory.resolve("root.key");
    KeyFiles.writePlain(key, KeySpec.EC_P256.generate().getPrivate());
    CliRunner cli = new CliRunner(directory.resolve("client").toString());

    CliRunner.Result result = cli.run("revoke", "--cert", root.toString(), "--key",
        key.toString(), "--ca-url", "https://127.0.0.1:1", "--root", root.toString());

    assertThat(result.status()).as(result.err()).isEqualTo(1);
    assertThat(result.err()).contains(key + " does not match the certificate in " + root
        + " (serial " + Renewer.serial(ca.root()) + "): pass the key file that was written"
        + " with this certificate");
    assertThat(result.err()).doesNotContain("Error writing to server");
  }

  @Test
  void revokeHexSerialMatchesOtherCommands() {
    assertThat(RevokeCommand.hexSerial("255")).isEqualTo("ff");
    assertThat(RevokeCommand.hexSerial("0xFF")).isEqualTo("ff");
    assertThat(RevokeCommand.hexSerial("00:ff")).isEqualTo("ff");
    assertThat(RevokeCommand.hexSerial("twelve")).isEqualTo("twelve");
  }
}
