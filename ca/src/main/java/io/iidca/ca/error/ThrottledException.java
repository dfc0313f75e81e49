package io.iidca.ca.error;

/** The client sent more requests than the CA accepts (HTTP 429). */
public final class ThrottledException extends IidcaException {

  public ThrottledException(String stage, String reason) {
    super(stage, reason, null);
  }

  public ThrottledException(String stage, String reason, Throwable cause) {
    super(stage, reason, cause);
  }

  @Override
  public int status() {
    return 429;
  }

  @Override
  public String publicMessage() {
    return "Too many requests; retry later.";
  }
}
