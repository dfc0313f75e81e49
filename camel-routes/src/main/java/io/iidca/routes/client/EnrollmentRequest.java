package io.iidca.routes.client;

import io.iidca.ca.pki.KeySpec;
import java.net.URI;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * What {@code iidca certificate} asks for.
 *
 * @param metadataEndpoint the metadata service to ask, or null for the cloud's own address
 *     (or the one its usual environment variable names)
 * @param provisionerType AWS, GCP or Azure, or null to look the provisioner up in the CA's
 *     {@code GET /provisioners}
 * @param sans extra names beyond the subject; the CA adds the names the cloud vouches for
 * @param progress receives one line per completed step
 * @param variables reads an environment variable, such as {@code GCE_METADATA_HOST}
 * @param cloudHint the type that {@link CloudHint#detect} returns, or null. The client reads
 *     that cloud's identity while it waits for the CA, and uses it only when the CA names the
 *     same type.
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
    Consumer<String> progress,
    String provisionerType,
    UnaryOperator<String> variables,
    String cloudHint) {

  public EnrollmentRequest {
    sans = List.copyOf(sans);
    variables = variables == null ? System::getenv : variables;
  }

  /**
   * A request whose provisioner type is looked up at the CA, with the process environment and
   * no cloud hint.
   */
  public EnrollmentRequest(URI caUrl, X509Certificate root, URI metadataEndpoint,
      String provisioner, String subject, List<String> sans, KeySpec keySpec,
      Path certificateFile, Path keyFile, boolean force, Consumer<String> progress) {
    this(caUrl, root, metadataEndpoint, provisioner, subject, sans, keySpec, certificateFile,
        keyFile, force, progress, null, null, null);
  }
}
