package io.iidca.routes.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.iidca.ca.config.ProvisionerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CloudHintTest {

  @TempDir Path sys;

  @Test
  void oneEndpointVariableNamesItsCloud() {
    assertThat(CloudHint.detect(Map.of(MetadataEndpoints.AWS_VARIABLE, "http://127.0.0.1:1")::get,
        null)).isEqualTo(ProvisionerConfig.TYPE_AWS);
    assertThat(CloudHint.detect(Map.of(MetadataEndpoints.GCP_VARIABLE, "127.0.0.1:1")::get,
        null)).isEqualTo(ProvisionerConfig.TYPE_GCP);
    assertThat(CloudHint.detect(Map.of(MetadataEndpoints.AZURE_VARIABLE,
        "http://127.0.0.1:1")::get, null)).isEqualTo(ProvisionerConfig.TYPE_AZURE);
  }

  @Test
  void twoEndpointVariablesTellNothingEvenWithDmi() throws IOException {
    dmi("sys_vendor", "Amazon EC2\n");
    Map<String, String> both = Map.of(MetadataEndpoints.AWS_VARIABLE, "http://127.0.0.1:1",
        MetadataEndpoints.GCP_VARIABLE, "127.0.0.1:2");

    assertThat(CloudHint.detect(both::get, sys)).isNull();
  }

  @Test
  void blankVariableCountsAsUnset() throws IOException {
    dmi("product_name", "Google Compute Engine\n");

    assertThat(CloudHint.detect(Map.of(MetadataEndpoints.AWS_VARIABLE, " ")::get, sys))
        .isEqualTo(ProvisionerConfig.TYPE_GCP);
  }

  @Test
  void nitroVendorIsAws() throws IOException {
    dmi("sys_vendor", "Amazon EC2\n");

    assertThat(CloudHint.detect(name -> null, sys)).isEqualTo(ProvisionerConfig.TYPE_AWS);
  }

  @Test
  void instanceIdAsAssetTagIsAws() throws IOException {
    dmi("board_asset_tag", "i-0af01c0123456789a\n");

    assertThat(CloudHint.detect(name -> null, sys)).isEqualTo(ProvisionerConfig.TYPE_AWS);
  }

  @Test
  void xenUuidStartingWithEc2IsAws() throws IOException {
    Files.createDirectories(sys.resolve("hypervisor"));
    Files.writeString(sys.resolve("hypervisor/uuid"), "EC2E1916-9099-7CAF-FD21-012345ABCDEF\n");

    assertThat(CloudHint.detect(name -> null, sys)).isEqualTo(ProvisionerConfig.TYPE_AWS);
  }

  @Test
  void googleProductIsGcp() throws IOException {
    dmi("sys_vendor", "Google\n");
    dmi("product_name", "Google Compute Engine\n");

    assertThat(CloudHint.detect(name -> null, sys)).isEqualTo(ProvisionerConfig.TYPE_GCP);
  }

  @Test
  void otherMachinesTellNothing() throws IOException {
    assertThat(CloudHint.detect(name -> null, sys)).isNull();
    assertThat(CloudHint.detect(name -> null, null)).isNull();

    dmi("sys_vendor", "QEMU\n");
    dmi("product_name", "Standard PC (Q35 + ICH9, 2009)\n");
    dmi("board_asset_tag", "i-not-an-instance\n");

    assertThat(CloudHint.detect(name -> null, sys)).isNull();
  }

  @Test
  void unreadableFileTellsNothing() throws IOException {
    // A directory where a file should be cannot be read as one.
    Files.createDirectories(sys.resolve("class/dmi/id/sys_vendor"));

    assertThat(CloudHint.detect(name -> null, sys)).isNull();
  }

  private void dmi(String name, String value) throws IOException {
    Path dmi = Files.createDirectories(sys.resolve("class/dmi/id"));
    Files.writeString(dmi.resolve(name), value);
  }
}
