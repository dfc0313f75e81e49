package io.iidca.testkit.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link GcpInstance}: value formats, the zone path and the internal DNS name. */
class GcpInstanceTest {

  static final Instant CREATED = Instant.parse("2024-05-01T11:00:00.750Z");

  @Test
  void randomInstanceHasValidValues() {
    GcpInstance instance = GcpInstance.random("my-project-123", "us-east1-b");

    assertThat(instance.instanceId()).matches("[1-9][0-9]{18}");
    assertThat(instance.serviceAccountId()).matches("[1-9][0-9]{20}");
    assertThat(instance.projectNumber()).isBetween(100_000_000_000L, 999_999_999_999L);
    assertThat(instance.serviceAccountEmail())
        .isEqualTo(instance.projectNumber() + "-compute@developer.gserviceaccount.com");
    assertThat(instance.zonePath())
        .isEqualTo("projects/" + instance.projectNumber() + "/zones/us-east1-b");
  }

  @Test
  void creationTimeIsTruncatedToSeconds() {
    GcpInstance instance = new GcpInstance("my-project-123", 1, "us-east1-b", "1", "web-1",
        CREATED, "a@b.c", "2");

    assertThat(instance.creationTime()).isEqualTo(Instant.parse("2024-05-01T11:00:00Z"));
    assertThat(instance.hostname()).isEqualTo("web-1.us-east1-b.c.my-project-123.internal");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "projectId, My-Project, 1, us-east1-b, 1, web-1",
      "zone, my-project-123, 1, us-east1, 1, web-1",
      "instanceId, my-project-123, 1, us-east1-b, i-123, web-1",
      "instanceName, my-project-123, 1, us-east1-b, 1, web.example.com",
      "projectNumber, my-project-123, 0, us-east1-b, 1, web-1"})
  void invalidValueIsRejected(String field, String project, long number, String zone,
      String id, String name) {
    assertThatThrownBy(() -> new GcpInstance(project, number, zone, id, name, CREATED, "a@b.c",
        "2"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("gcp-instance: " + field + " ");
  }
}
