package io.iidca.ca.error;

/** The identity document or its token failed verification (HTTP 401). Clients see a fixed text. */
public final class IdentityRejectedException extends IidcaException {

  public IdentityRejectedException(String stage, String reason) {
    super(stage, reason, null);
  }

  public IdentityRejectedException(String stage, String reason, Throwable cause) {
    super(stage, reason, cause);
  }

  @Override
  public int status() {
    return 401;
  }

  @Override
  public String publicMessage() {
    return "The identity document or token was not accepted.";
  }
}
