package io.iidca.ca.error;

/** A verified identity asked for something that policy does not allow (HTTP 403). */
public final class PolicyDeniedException extends IidcaException {

  public PolicyDeniedException(String stage, String reason) {
    super(stage, reason, null);
  }

  public PolicyDeniedException(String stage, String reason, Throwable cause) {
    super(stage, reason, cause);
  }

  @Override
  public int status() {
    return 403;
  }

  @Override
  public String publicMessage() {
    return reason();
  }
}
