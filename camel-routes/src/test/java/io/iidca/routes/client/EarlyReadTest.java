package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.pki.KeySpec;
import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsMetadataEmulator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An early read of the instance identity on an AWS cloud hint that fails. In a container whose
 * token PUT gets no response (a PUT response hop limit of 1), the early read gives up after its
 * short timeout without the IMDSv1 fallback. The read after the CA names the type then runs
 * with the usual timeouts and the fallback.
 */
class EarlyReadTest {

  @TempDir
  Path directory;

  @Test
  void failedEarlyReadIsDoneAgainWithFallback() throws Exception {
    try (RenewalCa ca = RenewalCa.start(directory);
        AwsMetadataEmulator emulator = emulator(ca, false)) {
      List<String> progress = new ArrayList<>();

      EnrollmentResult result = Enroller.enroll(request(ca, emulator, progress::add));

      assertThat(result.certificate().getSubjectX500Principal().getName())
          .contains(RenewalCa.SUBJECT);
      assertThat(progress).contains("Instance identity document: " + emulator.endpoint());
      assertThat(directory.resolve("app.crt")).exists();
    }
  }

  @Test
  void failureOfReadAgainIsReported() throws Exception {
    try (RenewalCa ca = RenewalCa.start(directory);
        AwsMetadataEmulator emulator = emulator(ca, true)) {
      EnrollmentRequest request = request(ca, emulator, line -> { });

      // Only the read with the IMDSv1 fallback names the hop limit, so this message is not
      // the early read's.
      assertThatThrownBy(() -> Enroller.enroll(request))
          .hasMessageContaining("cannot read the instance identity document from "
              + emulator.endpoint())
          .hasMessageContaining("returned 401: IMDSv1 is disabled on this instance")
          .hasMessageContaining("--http-put-response-hop-limit 2");
      assertThat(Files.exists(directory.resolve("app.crt"))).isFalse();
      assertThat(Files.exists(directory.resolve("app.key"))).isFalse();
    }
  }

  /** Returns an emulator that sends no response to token PUTs, as in such a container. */
  private static AwsMetadataEmulator emulator(RenewalCa ca, boolean imdsV2Only) {
    return AwsMetadataEmulator.builder().signer(ca.signer())
        .instance(AwsInstance.random(RenewalCa.ACCOUNT, "us-east-1"))
        .dropTokenPut(true).imdsV2Only(imdsV2Only).start();
  }

  private EnrollmentRequest request(RenewalCa ca, AwsMetadataEmulator emulator,
      Consumer<String> progress) {
    Map<String, String> variables = Map.of(MetadataEndpoints.AWS_VARIABLE,
        emulator.endpoint().toString());
    return new EnrollmentRequest(ca.url(), ca.root(), null, RenewalCa.PROVISIONER,
        RenewalCa.SUBJECT, List.of(), KeySpec.EC_P256, directory.resolve("app.crt"),
        directory.resolve("app.key"), false, progress, null, variables::get,
        ProvisionerConfig.TYPE_AWS);
  }
}
