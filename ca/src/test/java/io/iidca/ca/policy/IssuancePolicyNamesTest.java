package io.iidca.ca.policy;

import static io.iidca.ca.policy.IssuancePolicyTest.ACCOUNT;
import static io.iidca.ca.policy.IssuancePolicyTest.DNS;
import static io.iidca.ca.policy.IssuancePolicyTest.INSTANCE;
import static io.iidca.ca.policy.IssuancePolicyTest.IP;
import static io.iidca.ca.policy.IssuancePolicyTest.NOW;
import static io.iidca.ca.policy.IssuancePolicyTest.csr;
import static io.iidca.ca.policy.IssuancePolicyTest.identity;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.iidca.ca.config.Lifetime;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.error.PolicyDeniedException;
import io.iidca.ca.pki.CertificateTemplate;
import io.iidca.ca.policy.IssuancePolicyTest.VerifiedIdentityBuilder;
import io.iidca.ca.policy.NamePolicy.ListName;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link IssuancePolicy} with the CA's name policy and a provisioner's together: every name of
 * the certificate, the vouched names included, must pass both, the CA's first. The identity is
 * the one of {@link IssuancePolicyTest}: private IP 10.0.0.5 in us-east-1, vouched names
 * {@code ip-10-0-0-5.ec2.internal} and {@code 10.0.0.5}.
 */
class IssuancePolicyNamesTest {

  /** The CA allows names under example.com and EC2's names, and denies one IP range. */
  static final NamePolicy CA_POLICY = NamePolicy.of(Map.of(
      ListName.ALLOW_DNS, List.of(".example.com", "*.ec2.internal"),
      ListName.DENY_IP, List.of("10.9.0.0/16")));

  /** The provisioner narrows that to internal.example.com and 10.0.0.0/8, without db. */
  static final NamePolicy PROVISIONER_POLICY = NamePolicy.of(Map.of(
      ListName.ALLOW_DNS, List.of("*.internal.example.com", "*.ec2.internal"),
      ListName.DENY_DNS, List.of("db.internal.example.com"),
      ListName.ALLOW_IP, List.of("10.0.0.0/8")));

  static final ProvisionerConfig LISTED = provisioner("listed", false, PROVISIONER_POLICY);
  static final ProvisionerConfig NO_EC2_NAMES = provisioner("no-ec2-names", false,
      PROVISIONER_POLICY.with(ListName.ALLOW_DNS, List.of("*.internal.example.com")));
  static final ProvisionerConfig STRICT_LISTED = provisioner("strict-listed", true,
      PROVISIONER_POLICY);

  static ProvisionerConfig provisioner(String name, boolean disableCustomSans,
      NamePolicy namePolicy) {
    return new ProvisionerConfig(name, "AWS", Lifetime.DEFAULT, disableCustomSans, false, null,
        List.of(ACCOUNT), ProvisionerConfig.DEFAULT_AWS_FORMS, List.of(), false, false, null,
        false, namePolicy).validate("provisioner");
  }

  static CertificateTemplate apply(NamePolicy caPolicy, ProvisionerConfig provisioner,
      VerifiedIdentityBuilder identity, List<String> sans) {
    return IssuancePolicy.apply(provisioner, identity.build(provisioner),
        csr(identity.subject, sans), null, null, NOW, null, caPolicy);
  }

  // ---- allowed ----

  /** Returns rows of the case, provisioner, identity, CSR SANs, and the exact SANs. */
  static Stream<Arguments> allowed() {
    return Stream.of(
        Arguments.of("subject and vouched names pass both", LISTED,
            identity("app.internal.example.com"), List.of(),
            List.of("app.internal.example.com", DNS, IP)),
        Arguments.of("custom SAN passes both", LISTED, identity("app.internal.example.com"),
            List.of("api.internal.example.com", "10.1.2.3"),
            List.of("app.internal.example.com", "api.internal.example.com", "10.1.2.3", DNS,
                IP)),
        Arguments.of("upper-case SAN compared in lower case", LISTED,
            identity("app.internal.example.com"), List.of("API.Internal.Example.COM"),
            List.of("app.internal.example.com", "api.internal.example.com", DNS, IP)),
        Arguments.of("instance id subject is the common name only", STRICT_LISTED,
            identity(INSTANCE), List.of(), List.of(DNS, IP)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("allowed")
  void allowedNamesGiveExactSans(String label, ProvisionerConfig provisioner,
      VerifiedIdentityBuilder identity, List<String> sans, List<String> expected) {
    CertificateTemplate template = apply(CA_POLICY, provisioner, identity, sans);

    assertThat(template.sans()).containsExactlyElementsOf(expected);
  }

  // ---- denied ----

  /** Returns rows of the case, provisioner, identity, CSR SANs, and the exact message. */
  static Stream<Arguments> denied() {
    return Stream.of(
        Arguments.of("subject on the provisioner's deny list", LISTED,
            identity("db.internal.example.com"), List.of(),
            "policy: name db.internal.example.com is denied by the provisioner's deny list"
                + " (db.internal.example.com)"),
        Arguments.of("SAN on the provisioner's deny list, in upper case", LISTED,
            identity("app.internal.example.com"), List.of("DB.internal.example.com"),
            "policy: name db.internal.example.com is denied by the provisioner's deny list"
                + " (db.internal.example.com)"),
        Arguments.of("subject outside the CA's allow list", LISTED,
            identity("app.other.com"), List.of(),
            "policy: name app.other.com matches no pattern in the CA's DNS allow list"
                + " (.example.com, *.ec2.internal)"),
        Arguments.of("subject allowed by the CA but not the provisioner", LISTED,
            identity("app.example.com"), List.of(),
            "policy: name app.example.com matches no pattern in the provisioner's DNS allow"
                + " list (*.internal.example.com, *.ec2.internal)"),
        Arguments.of("SAN IP in the CA's denied range", LISTED,
            identity("app.internal.example.com"), List.of("10.9.1.1"),
            "policy: name 10.9.1.1 is denied by the CA's deny list (10.9.0.0/16)"),
        Arguments.of("IPv4-mapped SAN in the CA's denied range", LISTED,
            identity("app.internal.example.com"), List.of("::ffff:10.9.1.1"),
            "policy: name 10.9.1.1 is denied by the CA's deny list (10.9.0.0/16)"),
        Arguments.of("SAN IP outside the provisioner's allow list", LISTED,
            identity("app.internal.example.com"), List.of("192.168.1.1"),
            "policy: name 192.168.1.1 matches no pattern in the provisioner's IP allow list"
                + " (10.0.0.0/8)"),
        Arguments.of("vouched IP in the CA's denied range", LISTED,
            identity("app.internal.example.com")
                .vouched(List.of("ip-10-9-0-5.ec2.internal", "10.9.0.5")), List.of(),
            "policy: name 10.9.0.5 is denied by the CA's deny list (10.9.0.0/16)"),
        Arguments.of("vouched IP outside the provisioner's allow list", LISTED,
            identity("app.internal.example.com")
                .vouched(List.of("ip-172-16-0-5.ec2.internal", "172.16.0.5")), List.of(),
            "policy: name 172.16.0.5 matches no pattern in the provisioner's IP allow list"
                + " (10.0.0.0/8)"),
        Arguments.of("vouched DNS name outside the provisioner's allow list", NO_EC2_NAMES,
            identity("app.internal.example.com"), List.of(),
            "policy: name " + DNS + " matches no pattern in the provisioner's DNS allow list"
                + " (*.internal.example.com)"),
        Arguments.of("vouched subject outside the provisioner's allow list", NO_EC2_NAMES,
            identity(DNS), List.of(),
            "policy: name " + DNS + " matches no pattern in the provisioner's DNS allow list"
                + " (*.internal.example.com)"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("denied")
  void deniedNamesGiveExactMessage(String label, ProvisionerConfig provisioner,
      VerifiedIdentityBuilder identity, List<String> sans, String message) {
    PolicyDeniedException denial = catchThrowableOfType(PolicyDeniedException.class,
        () -> apply(CA_POLICY, provisioner, identity, sans));

    assertThat(denial).isNotNull();
    assertThat(denial.getMessage()).isEqualTo(message);
    assertThat(denial.status()).isEqualTo(403);
    assertThat(denial.publicMessage()).isEqualTo(message.substring("policy: ".length()));
  }

  @Test
  void signatureWithoutCaPolicyAppliesProvisionerPolicyOnly() {
    VerifiedIdentityBuilder identity = identity("app.internal.example.com");

    CertificateTemplate template = IssuancePolicy.apply(LISTED, identity.build(LISTED),
        csr(identity.subject, List.of("10.9.1.1")), null, null, NOW);

    assertThat(template.sans()).containsExactly("app.internal.example.com", "10.9.1.1", DNS,
        IP);
  }

  @Test
  void emptyPoliciesChangeNothing() {
    ProvisionerConfig open = ProvisionerConfig.aws("open", List.of(ACCOUNT));

    CertificateTemplate template = apply(NamePolicy.NONE, open, identity("app.other.com"),
        List.of("ops@example.org", "spiffe://example.org/app"));

    assertThat(template.sans()).containsExactly("app.other.com", "ops@example.org",
        "spiffe://example.org/app", DNS, IP);
  }

  @Test
  void checkNamePoliciesAppliesCaPolicyFirst() {
    NamePolicy denyAll = NamePolicy.NONE.with(ListName.DENY_DNS, List.of(".com"));

    PolicyDeniedException denial = catchThrowableOfType(PolicyDeniedException.class,
        () -> IssuancePolicy.checkNamePolicies(denyAll, denyAll, List.of("a.example.com")));

    assertThat(denial.getMessage())
        .isEqualTo("policy: name a.example.com is denied by the CA's deny list (.com)");
  }
}
