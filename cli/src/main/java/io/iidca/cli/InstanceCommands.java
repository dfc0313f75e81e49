package io.iidca.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.iidca.routes.client.CaClient;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code iidca instance list|reset}: the registrations of trust on first use, read and reset
 * through the running CA with an operator token.
 */
final class InstanceCommands {

  private InstanceCommands() {}

  /** {@code iidca instance list [--provisioner P]}. */
  static final class ListInstances extends Command {

    ListInstances(Environment environment) {
      super(environment);
    }

    @Override
    String name() {
      return "instance list";
    }

    @Override
    String arguments() {
      return "";
    }

    @Override
    String summary() {
      return "List registered instances: provisioner, instance id, account, enrollments,"
          + " serials.";
    }

    @Override
    Options options() {
      return OperatorAccess.addOptions(new Options())
          .addOption(Option.builder().longOpt("provisioner").hasArg().argName("NAME")
              .desc("only this provisioner's instances").get())
          .addOption(Option.builder().longOpt("help").desc("show this help").get());
    }

    @Override
    int run(CommandLine line) throws Exception {
      positional(line, 0, "no arguments");
      OperatorAccess operator = OperatorAccess.open(this, environment, line,
          readPassword(line));
      String query = line.hasOption("provisioner") ? "?provisioner=" + URLEncoder.encode(
          line.getOptionValue("provisioner"), StandardCharsets.UTF_8) : "";
      CaClient.Response response = operator.client().get("/admin/instances" + query,
          operator.token("/admin"));
      if (response.status() != 200) {
        err.println("iidca instance list: the CA refused (HTTP " + response.status() + "): "
            + response.message());
        return 1;
      }
      out.printf("%-24s %-22s %-14s %-11s %-24s %s%n", "PROVISIONER", "INSTANCE", "ACCOUNT",
          "ENROLLMENTS", "LAST ENROLLED", "SERIALS");
      for (JsonNode instance : response.body().path("instances")) {
        out.printf("%-24s %-22s %-14s %-11d %-24s %s%n",
            instance.path("provisioner").asText(), instance.path("instanceId").asText(),
            instance.path("account").asText(), instance.path("enrollments").asInt(),
            instance.path("lastEnrolledAt").asText(),
            String.join(",", serials(instance)));
      }
      return 0;
    }

    private static java.util.List<String> serials(JsonNode instance) {
      java.util.List<String> serials = new java.util.ArrayList<>();
      instance.path("serials").forEach(serial -> serials.add(serial.asText()));
      return serials;
    }
  }

  /** {@code iidca instance reset PROVISIONER INSTANCE_ID}. */
  static final class Reset extends Command {

    Reset(Environment environment) {
      super(environment);
    }

    @Override
    String name() {
      return "instance reset";
    }

    @Override
    String arguments() {
      return "PROVISIONER INSTANCE_ID";
    }

    @Override
    String summary() {
      return "Let a registered instance enroll once more.";
    }

    @Override
    Options options() {
      return OperatorAccess.addOptions(new Options())
          .addOption(Option.builder().longOpt("help").desc("show this help").get());
    }

    @Override
    int run(CommandLine line) throws Exception {
      var args = positional(line, 2, "PROVISIONER INSTANCE_ID");
      OperatorAccess operator = OperatorAccess.open(this, environment, line,
          readPassword(line));
      CaClient.Response response = operator.client().post("/admin/instances/reset",
          Map.of("provisioner", args.get(0), "instanceId", args.get(1)),
          operator.token("/admin"));
      if (response.status() != 200) {
        err.println("iidca instance reset: the CA refused (HTTP " + response.status() + "): "
            + response.message());
        return 1;
      }
      done("Instance " + args.get(1) + " may enroll once more with provisioner "
          + args.get(0));
      return 0;
    }
  }
}
