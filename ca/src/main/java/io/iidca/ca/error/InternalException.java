package io.iidca.ca.error;

/** An unexpected failure inside the CA (HTTP 500). Clients see a fixed text. */
public final class InternalException extends IidcaException {

  public InternalException(String stage, String reason) {
    super(stage, reason, null);
  }

  public InternalException(String stage, String reason, Throwable cause) {
    super(stage, reason, cause);
  }

  @Override
  public int status() {
    return 500;
  }

  @Override
  public String publicMessage() {
    return "Internal error.";
  }
}
