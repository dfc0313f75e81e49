package io.iidca.ca.error;

/** The requested resource, such as a provisioner or a root, does not exist (HTTP 404). */
public final class NotFoundException extends IidcaException {

  public NotFoundException(String stage, String reason) {
    super(stage, reason, null);
  }

  public NotFoundException(String stage, String reason, Throwable cause) {
    super(stage, reason, cause);
  }

  @Override
  public int status() {
    return 404;
  }

  @Override
  public String publicMessage() {
    return reason();
  }
}
