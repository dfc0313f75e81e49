package io.iidca.ca.azure;

import java.security.cert.X509Certificate;
import java.time.Instant;

/**
 * The verified content of an Azure attested document: the JSON that the Instance Metadata
 * Service signs, such as {@code {"nonce":"1234567890","plan":{...},"subscriptionId":"...",
 * "timeStamp":{"createdOn":"12/13/19 00:33:40 -0000","expiresOn":"12/13/19 06:33:40 -0000"},
 * "vmId":"..."}}.
 *
 * @param nonce the nonce the client passed to IMDS
 * @param vmId the VM's unique id, in lower case
 * @param subscriptionId the subscription, in lower case; null in documents of api-version
 *     2018-10-01 and older, which do not carry it
 * @param createdOn when IMDS signed the document
 * @param expiresOn when the document stops being valid: 6 hours after createdOn in every
 *     real document seen
 * @param signer the certificate that signed the document
 */
public record AttestedDocument(String nonce, String vmId, String subscriptionId,
    Instant createdOn, Instant expiresOn, X509Certificate signer) {}
