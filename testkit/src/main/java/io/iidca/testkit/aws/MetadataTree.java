package io.iidca.testkit.aws;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The paths that the emulator serves and their response bodies, computed once. A directory is
 * served with and without its trailing slash and lists its entries one per line, subdirectories
 * with a trailing slash, as IMDS does. Immutable after construction, so thread-safe.
 */
final class MetadataTree {

  private final Map<String, byte[]> bodies = new HashMap<>();

  MetadataTree(AwsInstance instance, AwsTestSigner signer) {
    byte[] document = instance.document();
    addIdentity(document, signer);
    addMetadata(instance);
    addDirectory("/latest", "dynamic", "meta-data");
    bodies.put("/", text("latest"));
  }

  /** Returns the body served at a path, or null when the path does not exist. */
  byte[] body(String path) {
    return bodies.get(path);
  }

  private void addIdentity(byte[] document, AwsTestSigner signer) {
    String base = "/latest/dynamic/instance-identity";
    bodies.put(base + "/document", document);
    bodies.put(base + "/signature",
        text(AwsTestSigner.base64Lines(signer.signSignature(document))));
    bodies.put(base + "/rsa2048", text(AwsTestSigner.base64Lines(signer.signRsa2048(document))));
    bodies.put(base + "/pkcs7", text(AwsTestSigner.base64Lines(signer.signPkcs7(document))));
    addDirectory(base, "document", "pkcs7", "rsa2048", "signature");
    addDirectory("/latest/dynamic", "instance-identity/");
  }

  private void addMetadata(AwsInstance instance) {
    String base = "/latest/meta-data";
    bodies.put(base + "/ami-id", text(instance.imageId()));
    bodies.put(base + "/hostname", text(instance.localHostname()));
    bodies.put(base + "/instance-id", text(instance.instanceId()));
    bodies.put(base + "/instance-type", text(instance.instanceType()));
    bodies.put(base + "/local-hostname", text(instance.localHostname()));
    bodies.put(base + "/local-ipv4", text(instance.privateIp()));
    bodies.put(base + "/placement/availability-zone", text(instance.availabilityZone()));
    bodies.put(base + "/placement/region", text(instance.region()));
    addDirectory(base + "/placement", "availability-zone", "region");
    addDirectory(base, "ami-id", "hostname", "instance-id", "instance-type", "local-hostname",
        "local-ipv4", "placement/");
  }

  private void addDirectory(String path, String... entries) {
    byte[] listing = text(String.join("\n", entries));
    bodies.put(path, listing);
    bodies.put(path + "/", listing);
  }

  private static byte[] text(String value) {
    return value.getBytes(StandardCharsets.UTF_8);
  }
}
