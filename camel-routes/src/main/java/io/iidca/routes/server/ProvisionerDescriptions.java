package io.iidca.routes.server;

import io.iidca.ca.config.Durations;
import io.iidca.ca.config.ProvisionerConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/** The public description of a provisioner, shared by the API and the command line. */
public final class ProvisionerDescriptions {

  private ProvisionerDescriptions() {}

  /** Describes a provisioner as {@code GET /provisioners} and {@code provisioner list} show it. */
  public static Map<String, Object> describe(ProvisionerConfig provisioner) {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("type", provisioner.type());
    map.put("name", provisioner.name());
    map.put("accounts", provisioner.awsAccounts());
    map.put("signatureForms", provisioner.awsSignatureForms());
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
