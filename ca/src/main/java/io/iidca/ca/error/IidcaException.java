package io.iidca.ca.error;

/**
 * The closed set of failures that the CA reports to a client. Each subclass maps to exactly one
 * HTTP status, so the status is decided where the failure is understood and is never rewrapped.
 *
 * <p>{@link #getMessage()} is the reason for the audit log and for operators: it names the stage
 * and the non-secret values that were seen and expected. {@link #publicMessage()} is what a
 * client may read; for identity failures it is a fixed text, so that a client never learns
 * which check failed.
 */
public abstract sealed class IidcaException extends RuntimeException
    permits MalformedRequestException, IdentityRejectedException, PolicyDeniedException,
        NotFoundException, ThrottledException, UnavailableException, InternalException {

  private final String stage;

  protected IidcaException(String stage, String reason, Throwable cause) {
    super(stage + ": " + reason, cause);
    this.stage = stage;
  }

  /** The HTTP status this failure maps to. */
  public abstract int status();

  /** The message a client may see. */
  public abstract String publicMessage();

  /** The pipeline stage or command that detected the failure, such as {@code verify-aws}. */
  public String stage() {
    return stage;
  }

  /** The reason without the stage prefix. */
  public String reason() {
    return getMessage().substring(stage.length() + 2);
  }
}
