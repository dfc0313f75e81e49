package io.iidca.ca.provisioner;

import java.time.Instant;
import java.util.List;

/**
 * The identity a provisioner established for a request after every identity check passed.
 *
 * @param vouchedNames names the cloud vouches for, such as an AWS instance's private IP and
 *     private DNS name
 * @param subject the subject the token requests (its {@code sub})
 * @param tokenSans the names the token lists in {@code sans}, or null when it lists none
 * @param tokenId the token's jti, single use
 */
public record VerifiedIdentity(
    String provisionerType,
    String provisioner,
    String instanceId,
    String account,
    String region,
    Instant pendingTime,
    List<String> vouchedNames,
    String subject,
    List<String> tokenSans,
    String tokenId,
    Instant tokenExpiry) {

  public VerifiedIdentity {
    vouchedNames = List.copyOf(vouchedNames);
    tokenSans = tokenSans == null ? null : List.copyOf(tokenSans);
  }

  /**
   * Returns this identity with another subject. GCP and Azure tokens come from the cloud and
   * name no subject of the client's choosing, so their subject is the CSR's common name, which
   * policy then checks like any other requested name.
   */
  public VerifiedIdentity withSubject(String newSubject) {
    return new VerifiedIdentity(provisionerType, provisioner, instanceId, account, region,
        pendingTime, vouchedNames, newSubject, tokenSans, tokenId, tokenExpiry);
  }
}
