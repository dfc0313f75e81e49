package io.iidca.ca.azure;

import java.util.Locale;
import java.util.Objects;

/**
 * An Azure Resource Manager resource id of a managed identity's owner, as the {@code xms_mirid}
 * claim of a managed-identity token carries it. Three forms are accepted, with segment names
 * compared without case, because Azure writes {@code resourcegroups} and {@code resourceGroups}
 * alike:
 *
 * <ul>
 *   <li>{@code /subscriptions/S/resourceGroups/G/providers/Microsoft.Compute/virtualMachines/V}
 *   <li>{@code /subscriptions/S/resourceGroups/G/providers/Microsoft.Compute/
 *       virtualMachineScaleSets/SS/virtualMachines/N}
 *   <li>{@code /subscriptions/S/resourceGroups/G/providers/Microsoft.ManagedIdentity/
 *       userAssignedIdentities/I}
 * </ul>
 *
 * <p>The format is described in "Resource Manager template functions: resourceId"
 * (learn.microsoft.com). Immutable.
 *
 * @param text the id as given
 * @param subscriptionId the subscription GUID, in lower case
 * @param resourceGroup the resource group name, case preserved
 * @param kind which of the three forms
 * @param name the virtual machine, scale set or identity name
 * @param scaleSetInstance the instance id within a scale set, or null
 */
public record ResourceId(String text, String subscriptionId, String resourceGroup, Kind kind,
    String name, String scaleSetInstance) {

  /** The owner types whose identities may enroll. */
  public enum Kind {
    VIRTUAL_MACHINE, SCALE_SET_VIRTUAL_MACHINE, USER_ASSIGNED_IDENTITY
  }

  private static final String GUID =
      "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
  private static final String NAME = "[^/\\s]+";

  public ResourceId {
    Objects.requireNonNull(text, "text");
  }

  /**
   * Parses a resource id.
   *
   * @throws IllegalArgumentException naming the id and the expected forms when it matches none
   */
  public static ResourceId parse(String text) {
    if (text == null || !text.startsWith("/")) {
      throw invalid(text, "it does not start with /subscriptions/");
    }
    String[] segments = text.substring(1).split("/", -1);
    if (segments.length != 8 && segments.length != 10) {
      throw invalid(text, "it has " + segments.length + " segments, expected 8 or 10");
    }
    expect(text, segments[0], "subscriptions");
    expect(text, segments[2], "resourceGroups");
    expect(text, segments[4], "providers");

    for (String segment : segments) {
      if (!segment.matches(NAME)) {
        throw invalid(text, "it has an empty segment or one with white space");
      }
    }
    if (!segments[1].matches(GUID)) {
      throw invalid(text, "subscription '" + segments[1] + "' is not a GUID");
    }
    String subscription = segments[1].toLowerCase(Locale.ROOT);
    String group = segments[3];
    String type = segments[5] + "/" + segments[6];

    if (segments.length == 8 && type.equalsIgnoreCase("Microsoft.Compute/virtualMachines")) {
      return new ResourceId(text, subscription, group, Kind.VIRTUAL_MACHINE, segments[7], null);
    }
    if (segments.length == 8
        && type.equalsIgnoreCase("Microsoft.ManagedIdentity/userAssignedIdentities")) {
      return new ResourceId(text, subscription, group, Kind.USER_ASSIGNED_IDENTITY, segments[7],
          null);
    }
    if (segments.length == 10
        && type.equalsIgnoreCase("Microsoft.Compute/virtualMachineScaleSets")
        && segments[8].equalsIgnoreCase("virtualMachines")) {
      return new ResourceId(text, subscription, group, Kind.SCALE_SET_VIRTUAL_MACHINE,
          segments[7], segments[9]);
    }
    throw invalid(text, "resource type " + type + " is not a virtual machine, a scale set"
        + " virtual machine or a user-assigned identity");
  }

  /**
   * Returns the virtual machine's name: the name of a VM, or {@code <scale set>_<instance id>}
   * for a scale set VM (the name Azure gives such a VM, independent of its computer name), or
   * null for a user-assigned identity, which names no VM.
   */
  public String vmName() {
    return switch (kind) {
      case VIRTUAL_MACHINE -> name;
      case SCALE_SET_VIRTUAL_MACHINE -> name + "_" + scaleSetInstance;
      case USER_ASSIGNED_IDENTITY -> null;
    };
  }

  private static void expect(String text, String segment, String name) {
    if (!segment.equalsIgnoreCase(name)) {
      throw invalid(text, "segment '" + segment + "' is not '" + name + "'");
    }
  }

  private static IllegalArgumentException invalid(String text, String reason) {
    return new IllegalArgumentException("resource id '" + text + "' is invalid: " + reason
        + "; expected /subscriptions/<id>/resourceGroups/<group>/providers/ followed by"
        + " Microsoft.Compute/virtualMachines/<vm>, Microsoft.Compute/virtualMachineScaleSets/"
        + "<set>/virtualMachines/<n> or Microsoft.ManagedIdentity/userAssignedIdentities/<id>");
  }
}
