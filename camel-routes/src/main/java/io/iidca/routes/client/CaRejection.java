package io.iidca.routes.client;

/**
 * A failure in which the CA responded and rejected the request, so that sending it again gets
 * the same response: an identity that was not accepted, a policy that denies it, an unknown
 * provisioner. A CA that cannot be reached, is busy (429) or failed (5xx) is not one. The
 * {@code iidca} command exits with status 3 on such a failure, so that scripts and systemd
 * units stop retrying.
 */
public interface CaRejection {

  /** Returns whether the CA rejected the request, so that a retry gets the same response. */
  boolean rejectedByCa();

  /**
   * Returns whether an HTTP status from the CA rejects the request for good: a 4xx other than
   * 408 Request Timeout and 429 Too Many Requests.
   */
  static boolean isRejection(int status) {
    return status >= 400 && status < 500 && status != 408 && status != 429;
  }
}
