package io.iidca.routes.client;

import io.iidca.ca.io.AtomicFiles;
import io.iidca.ca.pki.CaFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The client's {@code config/defaults.yaml}: the CA URL, the pinned root fingerprint and the
 * root certificate's path, written by {@code iidca bootstrap} (and by {@code iidca init} on
 * the CA host).
 */
public record ClientDefaults(String caUrl, String fingerprint, String root) {

  /** Reads the defaults; fails with the command to run when there are none. */
  public static ClientDefaults load(CaFiles files) throws IOException {
    Path path = files.defaults();
    String text;
    try {
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new IllegalStateException("no client configuration at " + path
          + ": run iidca bootstrap --ca-url URL --fingerprint SHA256 first");
    }
    Object loaded = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
    if (!(loaded instanceof Map<?, ?> map) || !(map.get("ca-url") instanceof String url)
        || !(map.get("fingerprint") instanceof String fingerprint)
        || !(map.get("root") instanceof String root)) {
      throw new IllegalStateException(path + " needs ca-url, fingerprint and root: run"
          + " iidca bootstrap again");
    }
    return new ClientDefaults(url, fingerprint, root);
  }

  public void save(CaFiles files) throws IOException {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("ca-url", caUrl);
    map.put("fingerprint", fingerprint);
    map.put("root", root);
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    AtomicFiles.write(files.defaults(), new Yaml(options).dump(map)
        .getBytes(StandardCharsets.UTF_8), AtomicFiles.PUBLIC);
  }
}
