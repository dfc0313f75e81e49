package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link MetadataEndpoints}: each cloud's default, its variable, and an explicit endpoint. */
class MetadataEndpointsTest {

  @ParameterizedTest(name = "{0} {1}={2}")
  @CsvSource(delimiter = '|', nullValues = "-", value = {
      "AWS | - | - | http://169.254.169.254",
      "AWS | AWS_EC2_METADATA_SERVICE_ENDPOINT | http://127.0.0.1:8169/ | http://127.0.0.1:8169",
      "AWS | GCE_METADATA_HOST | 127.0.0.1:8170 | http://169.254.169.254",
      "GCP | - | - | http://metadata.google.internal",
      "GCP | GCE_METADATA_HOST | 127.0.0.1:8170 | http://127.0.0.1:8170",
      "GCP | GCE_METADATA_HOST | ' ' | http://metadata.google.internal",
      "GCP | AZURE_POD_IDENTITY_AUTHORITY_HOST | http://[::1] | http://metadata.google.internal",
      "Azure | - | - | http://169.254.169.254",
      "Azure | AZURE_POD_IDENTITY_AUTHORITY_HOST | http://127.0.0.1:8171 | http://127.0.0.1:8171",
  })
  void endpointComesFromTheCloudsVariable(String type, String variable, String value,
      String expected) {
    Map<String, String> environment = variable == null ? Map.of() : Map.of(variable, value);

    URI endpoint = MetadataEndpoints.resolve(type, null, environment::get);

    assertThat(endpoint).isEqualTo(URI.create(expected));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"AWS", "GCP", "Azure"})
  void explicitEndpointWins(String type) {
    Map<String, String> environment = Map.of(
        "AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1",
        "GCE_METADATA_HOST", "127.0.0.1:2",
        "AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:3");

    URI endpoint = MetadataEndpoints.resolve(type, URI.create("http://127.0.0.1:9/"),
        environment::get);

    assertThat(endpoint).isEqualTo(URI.create("http://127.0.0.1:9"));
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(delimiter = '|', value = {
      "GCE_METADATA_HOST                 | http://127.0.0.1:8170 | GCP",
      "GCE_METADATA_HOST                 | 127.0.0.1:8170/path   | GCP",
      "AZURE_POD_IDENTITY_AUTHORITY_HOST | 127.0.0.1:8171        | Azure",
      "AWS_EC2_METADATA_SERVICE_ENDPOINT | https://127.0.0.1     | AWS",
  })
  void invalidVariableNamesItself(String variable, String value, String type) {
    Map<String, String> environment = Map.of(variable, value);

    assertThatThrownBy(() -> MetadataEndpoints.resolve(type, null, environment::get))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(variable);
  }
}
