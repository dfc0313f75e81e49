package io.iidca.routes.server;

import io.iidca.ca.config.Durations;
import io.iidca.ca.config.ProvisionerConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The public description of a provisioner, shared by the API and the command line. Field names
 * follow step-ca's provisioner JSON where it has one ({@code projectIDs}, {@code tenantID},
 * {@code subscriptionIDs}), so that tools written for step read them.
 */
public final class ProvisionerDescriptions {

  private ProvisionerDescriptions() {}

  /** Describes a provisioner as {@code GET /provisioners} and {@code provisioner list} show it. */
  public static Map<String, Object> describe(ProvisionerConfig provisioner) {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("type", provisioner.type());
    map.put("name", provisioner.name());
    if (provisioner.isAws()) {
      map.put("accounts", provisioner.awsAccounts());
      map.put("signatureForms", provisioner.awsSignatureForms());
    }
    if (provisioner.gcp() != null) {
      var gcp = provisioner.gcp();
      map.put("projectIDs", gcp.projectIds());
      map.put("serviceAccounts", gcp.serviceAccounts());
      map.put("zones", gcp.zones());
      map.put("requireKeyBinding", gcp.requireKeyBinding());
      map.put("leeway", Durations.format(gcp.leeway()));
    }
    if (provisioner.azure() != null) {
      var azure = provisioner.azure();
      map.put("tenantID", azure.tenantId());
      map.put("cloud", azure.cloud());
      map.put("audience", azure.effectiveAudience());
      map.put("subscriptionIDs", azure.subscriptionIds());
      map.put("resourceGroups", azure.resourceGroups());
      map.put("objectIDs", azure.objectIds());
      map.put("requireAttestation", azure.requireAttestation());
    }
    map.put("disableCustomSANs", provisioner.disableCustomSans());
    map.put("disableTrustOnFirstUse", provisioner.disableTrustOnFirstUse());
    if (provisioner.instanceAge() != null) {
      map.put("instanceAge", Durations.format(provisioner.instanceAge()));
    }
    map.put("disableRenewal", provisioner.disableRenewal());
    map.put("allowRenewalAfterExpiry", provisioner.allowRenewalAfterExpiry());
    if (provisioner.reattestAfter() != null) {
      map.put("reattestAfter", Durations.format(provisioner.reattestAfter()));
    }
    map.put("allowRestartedInstances", provisioner.allowRestartedInstances());
    if (!provisioner.namePolicy().isEmpty()) {
      map.put("namePolicy", provisioner.namePolicy().toMap());
    }
    map.put("claims", Map.of(
        "defaultTLSCertDuration", Durations.format(provisioner.lifetime().defaultDuration()),
        "minTLSCertDuration", Durations.format(provisioner.lifetime().min()),
        "maxTLSCertDuration", Durations.format(provisioner.lifetime().max())));
    return map;
  }
}
