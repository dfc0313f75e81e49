package io.iidca.cli;

import io.iidca.ca.config.ConfigException;
import io.iidca.ca.policy.NamePolicy;
import io.iidca.ca.policy.NamePolicy.ListName;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * The eight options that set a name policy's lists, {@code --allow-dns} to {@code --deny-uri},
 * shared by {@code init} (the CA's policy) and {@code provisioner add|update}.
 */
final class NamePolicyOptions {

  private NamePolicyOptions() {}

  /** Adds the eight options; {@code suffix} ends each description, such as "; repeat". */
  static Options add(Options options, String suffix) {
    for (ListName name : ListName.values()) {
      options.addOption(Option.builder().longOpt(name.option()).hasArg().argName("PATTERN")
          .desc(description(name) + suffix).get());
    }
    return options;
  }

  private static String description(ListName name) {
    String verb = name.action().equals("deny") ? "deny " : "allow only ";
    String deniedEvenIfAllowed = name.action().equals("deny") ? ", even when allowed" : "";
    return switch (name.type()) {
      case DNS -> verb + "DNS names that match PATTERN" + deniedEvenIfAllowed
          + ": host.example.com, *.example.com (one more label) or .example.com (any depth)";
      case IP -> verb + "IP addresses in PATTERN" + deniedEvenIfAllowed
          + ": a CIDR range such as 10.0.0.0/8 or fd00::/8, or one address";
      case EMAIL -> verb + "email addresses that match PATTERN" + deniedEvenIfAllowed
          + ": ops@example.com, or @example.com for a domain";
      case URI -> verb + "URIs that match PATTERN" + deniedEvenIfAllowed
          + ": a URI, or a prefix that ends in /, such as spiffe://example.org/ns/";
    };
  }

  /** Returns {@code base} with each list that the command line gives replaced by its values. */
  static NamePolicy apply(CommandLine line, NamePolicy base) {
    NamePolicy policy = base;
    for (ListName name : ListName.values()) {
      if (line.hasOption(name.option())) {
        policy = policy.with(name, List.of(line.getOptionValues(name.option())));
      }
    }
    return policy;
  }

  /**
   * Rewords a configuration error about a name policy list in terms of its option, so that
   * {@code for provisioner.namePolicy.allow.ip} reads {@code for --allow-ip}; returns other
   * messages unchanged.
   */
  static String flagMessage(ConfigException e) {
    String key = e.key() == null ? "" : e.key();
    for (ListName name : ListName.values()) {
      String suffix = "namePolicy." + name.key();
      if (key.endsWith(suffix)) {
        return e.getMessage().replace("for " + key + ":", "for --" + name.option() + ":");
      }
    }
    return e.getMessage();
  }
}
