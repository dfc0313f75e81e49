package io.iidca.ca.provisioner;

import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.config.Durations;
import io.iidca.ca.config.GcpOptions;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.gcp.GcpIdentityToken;
import io.iidca.ca.gcp.GcpIdentityToken.ComputeEngine;
import io.iidca.ca.gcp.GcpTokenVerifier;
import io.iidca.ca.gcp.GcpTokenVerifier.AudienceRule;
import io.iidca.ca.gcp.GoogleKeySource;
import io.iidca.ca.gcp.GoogleKeys;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Verifies Compute Engine instance identity tokens for one GCP provisioner. First the token
 * itself, as {@link GcpTokenVerifier} describes it, with an audience that must be this CA's sign
 * URL with {@code #gcp/<name>}. Then the provisioner's restrictions: project, service account,
 * zone or region, instance age, and the key binding of the audience's {@code spki} parameter
 * (see {@link Audience}).
 *
 * <p>Google's tokens have no {@code jti}, so the token id recorded for single use is the
 * SHA-256 of the token with its signature in canonical base64url. Another spelling of the same
 * signature is therefore the same token. Trust on first use and name policy are applied by
 * later stages. Thread-safe when the key source is.
 */
public final class GcpProvisioner {

  public static final String STAGE = "verify-gcp";

  private final ProvisionerConfig config;
  private final GcpOptions options;
  private final GcpTokenVerifier verifier;
  private final List<String> dnsNames;

  /**
   * Creates a provisioner that takes Google's keys from a key source, such as a loopback server
   * in tests.
   *
   * @param dnsNames the names and addresses of this CA that token audiences may use
   */
  public GcpProvisioner(ProvisionerConfig config, GoogleKeySource keys, List<String> dnsNames) {
    if (config.gcp() == null) {
      throw new IllegalArgumentException("provisioner " + config.name() + " has no gcp options");
    }
    this.config = config;
    this.options = config.gcp();
    this.verifier = new GcpTokenVerifier(keys, options.leeway(), STAGE);
    this.dnsNames = List.copyOf(dnsNames);
  }

  /** Creates a provisioner that fetches Google's keys from its configured {@code jwksUrl}. */
  public static GcpProvisioner forConfig(ProvisionerConfig config, List<String> caDnsNames) {
    return forConfig(config, caDnsNames, Clock.systemUTC());
  }

  /**
   * Creates a provisioner that fetches Google's keys from its configured {@code jwksUrl}, with
   * the key cache's freshness and fetch interval read from {@code clock}, the CA's clock.
   */
  public static GcpProvisioner forConfig(ProvisionerConfig config, List<String> caDnsNames,
      Clock clock) {
    GoogleKeys keys = GoogleKeys.fetching(URI.create(config.gcp().jwksUrl()),
        GoogleKeys.Settings.DEFAULT, clock);
    return new GcpProvisioner(config, keys, caDnsNames);
  }

  public ProvisionerConfig config() {
    return config;
  }

  /**
   * Verifies the token as of {@code now} for a certificate request with the key
   * {@code csrKey}.
   *
   * @throws IdentityRejectedException naming the failed check (for the audit log only)
   * @throws io.iidca.ca.error.MalformedRequestException when the token is not a JWT
   * @throws io.iidca.ca.error.UnavailableException when Google's keys cannot be fetched
   */
  public VerifiedIdentity verify(String token, PublicKey csrKey, Instant now) {
    GcpIdentityToken verified = verifier.verify(token, signUrlRule(), now);
    verifyKeyBinding(Audience.parse(verified.audience()).orElseThrow(), csrKey);
    ComputeEngine instance = verified.computeEngine();
    verifyProject(instance);
    verifyServiceAccount(verified);
    verifyZone(instance);
    verifyInstanceAge(instance, now);
    return new VerifiedIdentity(ProvisionerConfig.TYPE_GCP, config.name(),
        instance.instanceId(), instance.projectId(), instance.zone(),
        instance.instanceCreation(), vouchedNames(instance), instance.instanceName(), null,
        tokenId(token), verified.expiresAt());
  }

  /**
   * Returns the single-use id of a verified token: {@code sha256:} and the hex SHA-256 of its
   * canonical form ({@link SignedTokenIds}).
   */
  static String tokenId(String token) {
    try {
      return SignedTokenIds.of(SignedJWT.parse(token.strip()));
    } catch (ParseException e) {
      throw new IllegalStateException("a verified token no longer parses", e);
    }
  }

  /**
   * Returns the names Google's internal DNS gives the instance: the global name
   * {@code NAME.c.PROJECT.internal} and the zonal name {@code NAME.ZONE.c.PROJECT.internal}
   * (Compute Engine documentation, "Internal DNS"). A domain-scoped project gets none.
   */
  public static List<String> vouchedNames(ComputeEngine instance) {
    // NOTE: the DNS form of a domain-scoped project id (example.com:p) is not verified here,
    // so such instances get no vouched names rather than guessed ones.
    if (instance.isDomainScoped()) {
      return List.of();
    }
    String project = instance.projectId();
    return List.of(
        instance.instanceName() + ".c." + project + ".internal",
        instance.instanceName() + "." + instance.zone() + ".c." + project + ".internal");
  }

  private AudienceRule signUrlRule() {
    String name = config.name();
    return new AudienceRule() {
      @Override
      public boolean accepts(String audience) {
        return Audience.parse(audience)
            .filter(a -> a.type().equals("gcp") && a.provisionerName().equals(name))
            .filter(a -> a.isSignUrlOf(dnsNames))
            .isPresent();
      }

      @Override
      public String expected() {
        return "this CA's sign URL on " + dnsNames + " with #gcp/" + name;
      }
    };
  }

  private void verifyKeyBinding(Audience audience, PublicKey csrKey) {
    if (audience.spki() == null) {
      if (options.requireKeyBinding()) {
        throw reject("token aud has no spki parameter, but this provisioner requires the"
            + " audience to carry the SHA-256 of the request's public key");
      }
      return;
    }
    if (csrKey == null) {
      throw reject("token aud binds key " + audience.spki() + ", but the request has no key");
    }
    String expected = Audience.spkiDigest(csrKey);
    boolean equal = MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
        audience.spki().getBytes(StandardCharsets.US_ASCII));
    if (!equal) {
      throw reject("token aud binds key " + audience.spki() + ", but the request's key is "
          + expected);
    }
  }

  private void verifyProject(ComputeEngine instance) {
    List<String> allowed = options.projectIds();
    if (!allowed.isEmpty() && !allowed.contains(instance.projectId())) {
      throw reject("project_id " + instance.projectId() + " is not in the allowed projects "
          + allowed);
    }
    if (allowed.isEmpty() && options.serviceAccounts().isEmpty()) {
      throw reject("provisioner " + config.name() + " allows no project and no service"
          + " account");
    }
  }

  private void verifyServiceAccount(GcpIdentityToken token) {
    List<String> allowed = options.serviceAccounts();
    if (allowed.isEmpty()) {
      return;
    }
    Optional<String> email = Optional.ofNullable(token.email())
        .map(e -> e.toLowerCase(Locale.ROOT));
    boolean listed = allowed.stream().anyMatch(account ->
        account.equals(token.subject())
            || account.equals(token.authorizedParty())
            || email.filter(account.toLowerCase(Locale.ROOT)::equals).isPresent());
    if (!listed) {
      throw reject("service account " + token.email() + " (id " + token.subject()
          + ") is not in the allowed service accounts " + allowed);
    }
  }

  private void verifyZone(ComputeEngine instance) {
    if (!options.allowsZone(instance.zone())) {
      throw reject("zone " + instance.zone() + " is not in the allowed zones and regions "
          + options.zones());
    }
  }

  private void verifyInstanceAge(ComputeEngine instance, Instant now) {
    Duration maxAge = config.instanceAge();
    if (maxAge == null) {
      return;
    }
    Duration age = Duration.between(instance.instanceCreation(), now);
    if (age.compareTo(maxAge) > 0) {
      throw reject("instance " + instance.instanceId() + " was created at "
          + instance.instanceCreation() + ", " + Durations.format(age.withNanos(0))
          + " ago, which exceeds the instance age limit " + Durations.format(maxAge));
    }
  }

  private static IdentityRejectedException reject(String reason) {
    return new IdentityRejectedException(STAGE, reason);
  }
}
