package io.iidca.routes.client;

import org.apache.camel.CamelContext;
import org.apache.camel.CamelExecutionException;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.StartupSummaryLevel;
import org.apache.camel.impl.DefaultCamelContext;

/**
 * Runs the enrollment route in a short-lived Camel context. The context turns off what a
 * one-shot command does not use, such as JMX, stream caching, the class-path scans for type
 * converters and health checks, and the start-up summary, because each costs start-up time
 * on every enrollment.
 */
public final class Enroller {

  private Enroller() {}

  /**
   * Enrolls and returns the result.
   *
   * @throws Exception the step's own failure, unwrapped from Camel's
   */
  public static EnrollmentResult enroll(EnrollmentRequest request) throws Exception {
    try (ClientEnrollment enrollment = new ClientEnrollment(request)) {
      // The CA's TLS handshake runs while the context starts, which took about 0.09 s of a
      // 0.47-s cold enrollment in one measurement (bench/RESULTS.md).
      enrollment.connect();
      return run(enrollment);
    }
  }

  private static EnrollmentResult run(ClientEnrollment enrollment) throws Exception {
    try (CamelContext camel = new DefaultCamelContext()) {
      configureForOneShot(camel);
      camel.addRoutes(new EnrollRoute());
      camel.start();
      try (ProducerTemplate template = camel.createProducerTemplate()) {
        template.requestBody("direct:enroll", enrollment);
      } catch (CamelExecutionException e) {
        if (e.getCause() instanceof Exception cause) {
          throw cause;
        }
        throw e;
      }
      return enrollment.result();
    }
  }

  /** Turns off the context's services that a single request on a direct route does not use. */
  private static void configureForOneShot(CamelContext camel) {
    camel.getCamelContextExtension().setName("iidca-client");
    camel.disableJMX();
    camel.setLoadTypeConverters(false);
    camel.setLoadHealthChecks(false);
    camel.setDevConsole(false);
    camel.setModeline(false);
    camel.setStreamCaching(false);
    camel.setAutowiredEnabled(false);
    camel.setStartupSummaryLevel(StartupSummaryLevel.Off);
  }
}
