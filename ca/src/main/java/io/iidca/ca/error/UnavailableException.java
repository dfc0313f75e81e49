package io.iidca.ca.error;

/** A provider or the store is unavailable, so the request can be retried (HTTP 503). */
public final class UnavailableException extends IidcaException {

  public UnavailableException(String stage, String reason) {
    super(stage, reason, null);
  }

  public UnavailableException(String stage, String reason, Throwable cause) {
    super(stage, reason, cause);
  }

  @Override
  public int status() {
    return 503;
  }

  @Override
  public String publicMessage() {
    return "The CA cannot serve this request right now; retry later.";
  }
}
