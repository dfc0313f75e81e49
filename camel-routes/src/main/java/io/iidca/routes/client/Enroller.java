package io.iidca.routes.client;

import org.apache.camel.CamelContext;
import org.apache.camel.CamelExecutionException;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.impl.DefaultCamelContext;

/** Runs the enrollment route in a short-lived Camel context. */
public final class Enroller {

  private Enroller() {}

  /**
   * Enrolls and returns the result.
   *
   * @throws Exception the step's own failure, unwrapped from Camel's
   */
  public static EnrollmentResult enroll(EnrollmentRequest request) throws Exception {
    try (CamelContext camel = new DefaultCamelContext()) {
      camel.getCamelContextExtension().setName("iidca-client");
      camel.addRoutes(new EnrollRoute());
      camel.start();
      ClientEnrollment enrollment = new ClientEnrollment(request);
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
}
