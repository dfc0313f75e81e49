package io.iidca.routes.server;

import io.iidca.ca.error.IidcaException;
import io.iidca.ca.error.InternalException;
import io.iidca.ca.error.UnavailableException;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the exception that stopped an exchange into the response: the status of its type and
 * the type's public message. Any exception outside the closed set becomes a 500 whose cause is
 * logged with its stack trace here, and never reaches the client. A sign request also gets its
 * audit line.
 */
final class ErrorResponder implements Processor {

  private static final Logger LOG = LoggerFactory.getLogger(ErrorResponder.class);

  private final CaRuntime runtime;

  ErrorResponder(CaRuntime runtime) {
    this.runtime = runtime;
  }

  @Override
  public void process(Exchange exchange) {
    Throwable caught = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
    IidcaException error = classify(caught);
    Enrollment enrollment = exchange.getProperty(Enrollment.PROPERTY, Enrollment.class);
    if (enrollment != null) {
      AuditLog.failed(enrollment, error, runtime.clock().instant());
    }
    HttpResponses.error(exchange, error.status(), error.publicMessage(),
        enrollment == null ? null : enrollment.requestId());
    if (error instanceof UnavailableException unavailable) {
      exchange.getMessage().setHeader("Retry-After",
          String.valueOf(unavailable.retryAfterSeconds()));
    }
  }

  private static IidcaException classify(Throwable caught) {
    if (caught instanceof IidcaException known) {
      return known;
    }
    LOG.error("unexpected failure while handling a request", caught);
    return new InternalException("internal", caught == null ? "unknown failure"
        : caught.getClass().getName());
  }
}
