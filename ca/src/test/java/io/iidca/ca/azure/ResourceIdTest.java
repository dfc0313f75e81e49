package io.iidca.ca.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The xms_mirid parser: accepted forms, their parts, and rejected ids. */
class ResourceIdTest {

  private static final String SUB = "/subscriptions/BA11DD43-5DF0-464D-868F-FD3A7503E680";

  @ParameterizedTest
  @CsvSource({
      "/resourcegroups/demo/providers/Microsoft.Compute/virtualMachines/demo-vm,"
          + " VIRTUAL_MACHINE, demo, demo-vm, demo-vm",
      "/resourceGroups/Demo/providers/microsoft.compute/VIRTUALMACHINES/demo-vm,"
          + " VIRTUAL_MACHINE, Demo, demo-vm, demo-vm",
      "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/web/"
          + "virtualMachines/3, SCALE_SET_VIRTUAL_MACHINE, rg, web, web_3",
      "/RESOURCEGROUPS/rg/PROVIDERS/Microsoft.Compute/virtualmachinescalesets/web/"
          + "VirtualMachines/12, SCALE_SET_VIRTUAL_MACHINE, rg, web, web_12",
      "/resourcegroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-id,"
          + " USER_ASSIGNED_IDENTITY, ids, app-id, ''"})
  void validIdIsParsed(String rest, ResourceId.Kind kind, String group, String name,
      String vmName) {
    ResourceId id = ResourceId.parse(SUB + rest);

    assertThat(id.subscriptionId()).isEqualTo("ba11dd43-5df0-464d-868f-fd3a7503e680");
    assertThat(id.kind()).isEqualTo(kind);
    assertThat(id.resourceGroup()).isEqualTo(group);
    assertThat(id.name()).isEqualTo(name);
    assertThat(id.vmName()).isEqualTo(vmName.isEmpty() ? null : vmName);
    assertThat(id.text()).isEqualTo(SUB + rest);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "''| does not start with /subscriptions/",
      "subscriptions/x| does not start with /subscriptions/",
      "/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.Compute/"
          + "virtualMachines/vm| is not a GUID",
      "/subscriptions/ba11dd43-5df0-464d-868f-fd3a7503e680/resourceGroups/rg/providers/"
          + "Microsoft.Web/sites/app| is not a virtual machine",
      "/subscriptions/ba11dd43-5df0-464d-868f-fd3a7503e680/groups/rg/providers/"
          + "Microsoft.Compute/virtualMachines/vm| is not 'resourceGroups'",
      "/subscriptions/ba11dd43-5df0-464d-868f-fd3a7503e680/resourceGroups/rg/providers/"
          + "Microsoft.Compute/virtualMachines/vm/extra| segments, expected 8 or 10",
      "/subscriptions/ba11dd43-5df0-464d-868f-fd3a7503e680/resourceGroups//providers/"
          + "Microsoft.Compute/virtualMachines/vm| empty segment",
      "/subscriptions/ba11dd43-5df0-464d-868f-fd3a7503e680/resourceGroups/rg/providers/"
          + "Microsoft.Compute/virtualMachineScaleSets/web/instances/3| is not a virtual"})
  void invalidIdIsRejected(String text, String reason) {
    assertThatThrownBy(() -> ResourceId.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(reason);
  }
}
