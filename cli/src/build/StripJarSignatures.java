import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Removes the JAR signatures from the signed jars of a directory, in place. The cli build runs
 * it on cli/target/iidca/lib with {@code java StripJarSignatures.java DIR} (a single-file
 * source program, JEP 330), before the tarball and the .deb are built.
 *
 * <p>Class-data sharing skips every class of a signed jar, and the JVM verifies each signed
 * jar's signature as it opens it, on every start of the command. A jar counts as signed when
 * its META-INF contains a signature file (JAR File Specification, "Signed JAR File"). Such a
 * jar loses its META-INF/*.SF, *.RSA, *.DSA, *.EC and SIG-* files. Its manifest keeps the main
 * section (Multi-Release among others) and each entry's attributes except the *-Digest ones.
 * Unsigned jars are left untouched, so a second run changes nothing.
 *
 * <p>The output is reproducible: entries keep their order, names, times, comments and
 * compression method, and deflated entries are compressed again with the JDK's zlib.
 */
public final class StripJarSignatures {

  private StripJarSignatures() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 1 || !Files.isDirectory(Path.of(args[0]))) {
      System.err.println("usage: java StripJarSignatures.java DIRECTORY_OF_JARS");
      System.exit(2);
    }
    List<Path> jars = new ArrayList<>();
    try (DirectoryStream<Path> found = Files.newDirectoryStream(Path.of(args[0]), "*.jar")) {
      found.forEach(jars::add);
    }
    Collections.sort(jars);
    for (Path jar : jars) {
      if (isSigned(jar)) {
        strip(jar);
        System.out.println("StripJarSignatures: removed the signature of " + jar.getFileName());
      }
    }
  }

  /** Returns whether the entry {@code name} is a signature file or signature block. */
  static boolean isSignatureFile(String name) {
    String upper = name.toUpperCase(Locale.ROOT);
    if (!upper.startsWith("META-INF/") || upper.indexOf('/', "META-INF/".length()) >= 0) {
      return false;
    }
    String file = upper.substring("META-INF/".length());
    return file.endsWith(".SF") || file.endsWith(".RSA") || file.endsWith(".DSA")
        || file.endsWith(".EC") || file.startsWith("SIG-");
  }

  private static boolean isSigned(Path jar) throws IOException {
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      return zip.stream().anyMatch(entry -> isSignatureFile(entry.getName())
          && entry.getName().toUpperCase(Locale.ROOT).endsWith(".SF"));
    }
  }

  /** Writes the jar again without its signature next to it, then renames it into place. */
  private static void strip(Path jar) throws IOException {
    Path partial = jar.resolveSibling(jar.getFileName() + ".unsigned");
    try (ZipFile zip = new ZipFile(jar.toFile());
        ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(partial))) {
      for (Iterator<? extends ZipEntry> entries = zip.entries().asIterator();
          entries.hasNext(); ) {
        ZipEntry entry = entries.next();
        if (isSignatureFile(entry.getName())) {
          continue;
        }
        byte[] content;
        try (InputStream in = zip.getInputStream(entry)) {
          content = in.readAllBytes();
        }
        if (entry.getName().equalsIgnoreCase(JarFile.MANIFEST_NAME)) {
          content = withoutDigests(content);
        }
        out.putNextEntry(copyOf(entry, content));
        out.write(content);
        out.closeEntry();
      }
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(partial);
      throw e;
    }
    Files.move(partial, jar, StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }

  /** Returns a manifest with every attribute of the input except the entries' *-Digest ones. */
  static byte[] withoutDigests(byte[] manifestBytes) throws IOException {
    Manifest input = new Manifest(new ByteArrayInputStream(manifestBytes));
    Manifest output = new Manifest();
    output.getMainAttributes().putAll(input.getMainAttributes());
    for (Map.Entry<String, Attributes> section : input.getEntries().entrySet()) {
      Attributes kept = new Attributes();
      for (Map.Entry<Object, Object> attribute : section.getValue().entrySet()) {
        String name = attribute.getKey().toString();
        if (!name.toUpperCase(Locale.ROOT).endsWith("-DIGEST")) {
          kept.put(attribute.getKey(), attribute.getValue());
        }
      }
      if (!kept.isEmpty()) {
        output.getEntries().put(section.getKey(), kept);
      }
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    output.write(bytes);
    return bytes.toByteArray();
  }

  /** Returns a new entry with the old one's name, time, comment and method for this content. */
  private static ZipEntry copyOf(ZipEntry entry, byte[] content) {
    ZipEntry copy = new ZipEntry(entry.getName());
    copy.setTime(entry.getTime());
    if (entry.getComment() != null) {
      copy.setComment(entry.getComment());
    }
    copy.setMethod(entry.getMethod());
    if (entry.getMethod() == ZipEntry.STORED) {
      CRC32 crc = new CRC32();
      crc.update(content);
      copy.setSize(content.length);
      copy.setCompressedSize(content.length);
      copy.setCrc(crc.getValue());
    }
    return copy;
  }
}
