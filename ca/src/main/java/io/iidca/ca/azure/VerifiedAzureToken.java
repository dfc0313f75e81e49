package io.iidca.ca.azure;

import java.time.Instant;

/**
 * A managed-identity token after every check of {@link AzureTokenVerifier} passed.
 *
 * @param token the token
 * @param tenantId the {@code tid} claim, in lower case
 * @param objectId the {@code oid} claim: the managed identity's object id, in lower case
 * @param resource the {@code xms_mirid} claim: the VM or identity that owns the token
 * @param expiry the {@code exp} claim
 */
public record VerifiedAzureToken(AzureToken token, String tenantId, String objectId,
    ResourceId resource, Instant expiry) {}
