package io.iidca.ca.error;

/** The request cannot be parsed or is incomplete (HTTP 400). The reason is safe to show. */
public final class MalformedRequestException extends IidcaException {

  public MalformedRequestException(String stage, String reason) {
    super(stage, reason, null);
  }

  public MalformedRequestException(String stage, String reason, Throwable cause) {
    super(stage, reason, cause);
  }

  @Override
  public int status() {
    return 400;
  }

  @Override
  public String publicMessage() {
    return reason();
  }
}
