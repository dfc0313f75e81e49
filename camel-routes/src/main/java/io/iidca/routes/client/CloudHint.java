package io.iidca.routes.client;

import io.iidca.ca.config.ProvisionerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * The cloud an instance most likely runs on, detected without the network, so that the client
 * can read the instance's identity while the CA's TLS handshake and its
 * {@code GET /provisioners} are still under way. Only the CA's response decides which identity
 * is sent, so a wrong guess costs one read of a metadata service, with short timeouts, whose
 * result is not used.
 *
 * <p>The signs, in this order:
 *
 * <ol>
 *   <li>the variable that names a cloud's metadata service ({@link MetadataEndpoints}), when
 *       exactly one of the three is set;
 *   <li>the firmware's DMI strings that Linux shows under {@code /sys}: {@code sys_vendor}
 *       {@code Amazon EC2} (instances on the Nitro system, as cloud-init's ds-identify reads
 *       it), a {@code board_asset_tag} that is an instance id (Nitro), or a
 *       {@code /sys/hypervisor/uuid} that starts with {@code ec2} (Xen): AWS, from "Detect
 *       whether a host is an EC2 instance" in the Amazon EC2 User Guide. A
 *       {@code product_name} that starts with {@code Google}: GCP, as Google's client
 *       libraries test it (grpc-go's internal/googlecloud).
 * </ol>
 */
public final class CloudHint {

  /** The mount point of sysfs on Linux. */
  public static final Path SYS = Path.of("/sys");

  private static final Pattern INSTANCE_ID = Pattern.compile("i-[0-9a-f]{8}([0-9a-f]{9})?");

  private CloudHint() {}

  /**
   * Returns {@link ProvisionerConfig#TYPE_AWS}, {@link ProvisionerConfig#TYPE_GCP},
   * {@link ProvisionerConfig#TYPE_AZURE}, or null when no sign names a cloud.
   *
   * @param variables reads an environment variable
   * @param sys where sysfs is mounted, {@link #SYS}; null reads no files
   */
  public static String detect(UnaryOperator<String> variables, Path sys) {
    List<String> named = new ArrayList<>();
    addIfSet(named, variables, MetadataEndpoints.AWS_VARIABLE, ProvisionerConfig.TYPE_AWS);
    addIfSet(named, variables, MetadataEndpoints.GCP_VARIABLE, ProvisionerConfig.TYPE_GCP);
    addIfSet(named, variables, MetadataEndpoints.AZURE_VARIABLE, ProvisionerConfig.TYPE_AZURE);
    if (named.size() == 1) {
      return named.get(0);
    }
    if (!named.isEmpty() || sys == null) {
      return null;
    }
    Path dmi = sys.resolve("class/dmi/id");
    if (read(dmi.resolve("sys_vendor")).equals("Amazon EC2")
        || INSTANCE_ID.matcher(read(dmi.resolve("board_asset_tag"))).matches()
        || read(sys.resolve("hypervisor/uuid")).toLowerCase().startsWith("ec2")) {
      return ProvisionerConfig.TYPE_AWS;
    }
    if (read(dmi.resolve("product_name")).startsWith("Google")) {
      return ProvisionerConfig.TYPE_GCP;
    }
    return null;
  }

  private static void addIfSet(List<String> named, UnaryOperator<String> variables,
      String variable, String type) {
    String value = variables.apply(variable);
    if (value != null && !value.isBlank()) {
      named.add(type);
    }
  }

  /** Reads the file's first line without surrounding blanks, or "" when it cannot be read. */
  private static String read(Path file) {
    try {
      // The files of sysfs are a page at most.
      String text = Files.readString(file, StandardCharsets.ISO_8859_1);
      int newline = text.indexOf('\n');
      return (newline < 0 ? text : text.substring(0, newline)).strip();
    } catch (IOException | SecurityException e) {
      return "";
    }
  }
}
