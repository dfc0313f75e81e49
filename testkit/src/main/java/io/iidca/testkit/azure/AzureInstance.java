package io.iidca.testkit.azure;

import java.util.Objects;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * One emulated Azure VM with a system-assigned managed identity.
 *
 * <p>The constructor checks the format of every value (GUIDs, a resource group and VM name of
 * letters, digits, '.', '_', '-', '(' and ')'), so the emulator's JSON never needs escaping. It
 * does not check that a location or environment exists. Immutable and thread-safe.
 *
 * @param tenantId the Entra tenant of the managed identity
 * @param subscriptionId the subscription of the VM
 * @param resourceGroup the VM's resource group
 * @param vmName the VM's name
 * @param vmId the VM's unique id, as IMDS and the attested document report it
 * @param objectId the managed identity's object id (the token's {@code oid})
 * @param location the Azure region, such as {@code eastus}
 * @param environment the {@code azEnvironment}, such as {@code AzurePublicCloud}
 */
public record AzureInstance(String tenantId, String subscriptionId, String resourceGroup,
    String vmName, String vmId, String objectId, String location, String environment) {

  private static final Pattern GUID = Pattern.compile(
      "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._()-]{1,90}");
  private static final Pattern WORD = Pattern.compile("[A-Za-z0-9]{1,64}");

  public AzureInstance {
    checkGuid("tenant id", tenantId);
    checkGuid("subscription id", subscriptionId);
    checkGuid("vm id", vmId);
    checkGuid("object id", objectId);
    check("resource group", resourceGroup, NAME);
    check("vm name", vmName, NAME);
    check("location", location, WORD);
    check("environment", environment, WORD);
  }

  /** Returns a VM with random ids in a tenant and subscription, in eastus, public cloud. */
  public static AzureInstance random(String tenantId, String subscriptionId) {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    return new AzureInstance(tenantId, subscriptionId, "iidca-test-rg", "vm-" + suffix,
        UUID.randomUUID().toString(), UUID.randomUUID().toString(), "eastus",
        "AzurePublicCloud");
  }

  /** Returns the VM's resource id, which tokens carry as {@code xms_mirid}. */
  public String resourceId() {
    return "/subscriptions/" + subscriptionId + "/resourcegroups/" + resourceGroup
        + "/providers/Microsoft.Compute/virtualMachines/" + vmName;
  }

  /** Returns a copy with another VM id; for tests of a document from another VM. */
  public AzureInstance withVmId(String otherVmId) {
    return new AzureInstance(tenantId, subscriptionId, resourceGroup, vmName, otherVmId,
        objectId, location, environment);
  }

  private static void checkGuid(String name, String value) {
    check(name, value, GUID);
  }

  private static void check(String name, String value, Pattern pattern) {
    Objects.requireNonNull(value, name);
    if (!pattern.matcher(value).matches()) {
      throw new IllegalArgumentException("invalid " + name + " '" + value + "', expected "
          + (pattern == GUID ? "a lower-case GUID" : "the pattern " + pattern));
    }
  }
}
