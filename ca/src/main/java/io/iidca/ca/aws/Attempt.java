package io.iidca.ca.aws;

import io.iidca.ca.error.IdentityRejectedException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The candidate certificates of one verification and what happened to each, for the rejection
 * message. Used by one thread for one call.
 */
final class Attempt {

  private final AwsSignatureForm form;
  private final String region;
  private final List<X509Certificate> candidates;
  private final List<X509Certificate> valid = new ArrayList<>();
  private final Map<X509Certificate, String> outcomes = new LinkedHashMap<>();

  /** Splits {@code candidates} into those valid at {@code at} and those that are not. */
  Attempt(AwsSignatureForm form, String region, Instant at, List<X509Certificate> candidates) {
    this.form = form;
    this.region = region;
    this.candidates = List.copyOf(candidates);
    for (X509Certificate candidate : candidates) {
      Instant notBefore = candidate.getNotBefore().toInstant();
      Instant notAfter = candidate.getNotAfter().toInstant();
      if (at.isBefore(notBefore) || at.isAfter(notAfter)) {
        outcomes.put(candidate, "not valid at " + at + ", valid " + notBefore + " to "
            + notAfter);
      } else {
        valid.add(candidate);
      }
    }
  }

  AwsSignatureForm form() {
    return form;
  }

  boolean isEmpty() {
    return candidates.isEmpty();
  }

  /** Returns the candidates whose validity period contains the verification time. */
  List<X509Certificate> valid() {
    return valid;
  }

  void record(X509Certificate candidate, String outcome) {
    outcomes.put(candidate, outcome);
  }

  /** Returns a rejection naming the form, the region and every candidate with its outcome. */
  IdentityRejectedException reject(String detail, Throwable cause) {
    return new IdentityRejectedException(AwsDocumentVerifier.STAGE, form + " signature for"
        + " region " + region + " rejected: " + detail + "; candidates: " + describe(), cause);
  }

  private String describe() {
    if (candidates.isEmpty()) {
      return "none";
    }
    return candidates.stream()
        .map(c -> Serials.of(c) + " (" + outcomes.getOrDefault(c, "valid, not tried") + ")")
        .collect(Collectors.joining(", "));
  }
}
