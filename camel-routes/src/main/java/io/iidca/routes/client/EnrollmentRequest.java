package io.iidca.routes.client;

import io.iidca.ca.pki.KeySpec;
import java.net.URI;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Consumer;

/**
 * What {@code iidca certificate} asks for.
 *
 * @param sans extra names beyond the subject; the CA adds the names the cloud vouches for
 * @param progress receives one line per completed step
 */
public record EnrollmentRequest(
    URI caUrl,
    X509Certificate root,
    URI metadataEndpoint,
    String provisioner,
    String subject,
    List<String> sans,
    KeySpec keySpec,
    Path certificateFile,
    Path keyFile,
    boolean force,
    Consumer<String> progress) {

  public EnrollmentRequest {
    sans = List.copyOf(sans);
  }
}
