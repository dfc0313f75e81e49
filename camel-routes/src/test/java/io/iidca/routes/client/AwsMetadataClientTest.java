package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iidca.testkit.aws.AwsInstance;
import io.iidca.testkit.aws.AwsMetadataEmulator;
import io.iidca.testkit.aws.AwsTestSigner;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import org.bouncycastle.cms.CMSSignedData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Reads identity documents from the AWS metadata emulator on 127.0.0.1. */
class AwsMetadataClientTest {

  private static final AwsInstance INSTANCE = new AwsInstance("111122223333", "us-west-2",
      "i-0123456789abcdef0", "10.1.2.3", Instant.parse("2024-05-06T07:08:09Z"), "t3.micro",
      "ami-0fedcba9876543210");
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  /** Short, so that a token PUT without a response falls back to IMDSv1 quickly. */
  private static final Duration SHORT_TIMEOUT = Duration.ofMillis(300);

  private static AwsTestSigner signer;
  private AwsMetadataEmulator emulator;

  @BeforeAll
  static void generateSigner() {
    signer = AwsTestSigner.generate();
  }

  @AfterEach
  void closeEmulator() {
    if (emulator != null) {
      emulator.close();
    }
  }

  @Test
  void readsDocumentAndItsSignedCopy() throws Exception {
    start(AwsMetadataEmulator.builder());

    AwsMetadataClient.SignedDocument signed =
        new AwsMetadataClient(emulator.endpoint(), TIMEOUT).fetch();

    assertThat(signed.document()).isEqualTo(INSTANCE.document());
    assertThat((byte[]) new CMSSignedData(signed.rsa2048()).getSignedContent().getContent())
        .isEqualTo(INSTANCE.document());
  }

  @Test
  void usesTokenWhereImdsV1IsOff() throws Exception {
    start(AwsMetadataEmulator.builder().imdsV2Only(true));

    assertThat(new AwsMetadataClient(emulator.endpoint(), TIMEOUT).fetch().document())
        .isEqualTo(INSTANCE.document());
  }

  @Test
  void droppedTokenPutFallsBackToImdsV1() throws Exception {
    start(AwsMetadataEmulator.builder().dropTokenPut(true));

    assertThat(new AwsMetadataClient(emulator.endpoint(), SHORT_TIMEOUT).fetch().document())
        .isEqualTo(INSTANCE.document());
  }

  @Test
  void bothVersionsFailingNamesHopLimit() {
    start(AwsMetadataEmulator.builder().dropTokenPut(true).imdsV2Only(true));
    URI endpoint = emulator.endpoint();

    assertThatThrownBy(() -> new AwsMetadataClient(endpoint, SHORT_TIMEOUT).fetch())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("cannot read the instance identity document from " + endpoint)
        .hasMessageContaining("the IMDSv2 token request (PUT /latest/api/token) timed out"
            + " after 300 ms")
        .hasMessageContaining("returned 401: IMDSv1 is disabled on this instance")
        .hasMessageContaining("--http-put-response-hop-limit 2");
  }

  @Test
  void namesEndpointAndVariableWhenNothingListens() throws Exception {
    URI closed;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = URI.create("http://127.0.0.1:" + socket.getLocalPort());
    }

    assertThatThrownBy(() -> new AwsMetadataClient(closed, TIMEOUT).fetch())
        .isInstanceOf(IOException.class)
        .hasMessage("cannot connect to the instance metadata service at " + closed
            + ": is this an EC2 instance, or should AWS_EC2_METADATA_SERVICE_ENDPOINT point at"
            + " a metadata emulator?");
  }

  private void start(AwsMetadataEmulator.Builder builder) {
    emulator = builder.signer(signer).instance(INSTANCE).start();
  }
}
