package io.iidca.routes.server;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.config.CaConfig;
import io.iidca.ca.config.ProvisionerConfig;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.MalformedRequestException;
import io.iidca.ca.provisioner.Audience;
import io.iidca.ca.provisioner.AwsToken;
import java.text.ParseException;
import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The identify stage: reads the token's unverified claims to find the provisioner it names and
 * selects the verify route. AWS and GCP tokens name it in their audience ({@code #aws/NAME},
 * {@code #gcp/NAME}). An Azure token's audience is the cloud's Resource Manager, so its tenant
 * ({@code tid}) and the request's {@code provisioner} field name it; without the field, the
 * tenant's only Azure provisioner is chosen. Nothing is trusted or written here.
 */
final class ProvisionerIdentifier implements Processor {

  private static final String STAGE = "identify";

  private final CaRuntime runtime;

  ProvisionerIdentifier(CaRuntime runtime) {
    this.runtime = runtime;
  }

  @Override
  public void process(Exchange exchange) {
    Enrollment enrollment = exchange.getProperty(Enrollment.PROPERTY, Enrollment.class);
    enrollment.provisioners = runtime.current();
    CaConfig config = enrollment.provisioners.config();
    SignedJWT jwt;
    JWTClaimsSet claims;
    try {
      // Decodes the payload once with java.util.Base64: see AwsToken.parseSignedJwt.
      jwt = AwsToken.parseSignedJwt(enrollment.ott);
    } catch (ParseException e) {
      if (isUnsecured(enrollment.ott)) {
        throw new IdentityRejectedException(STAGE, "ott is an unsecured JWT (alg none),"
            + " which proves nothing");
      }
      throw new MalformedRequestException(STAGE, "ott is not a signed JWT");
    }
    try {
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      // Nimbus names the claim, such as "Illegal aud claim" for an audience that is a number.
      throw new MalformedRequestException(STAGE, "ott's claims are invalid: "
          + e.getMessage());
    }
    List<String> audiences = claims.getAudience();
    for (String value : audiences) {
      Audience audience = Audience.parse(value).orElse(null);
      if (audience == null) {
        continue;
      }
      switch (audience.type()) {
        case "aws" -> {
          select(exchange, enrollment, named(config, audience, ProvisionerConfig.TYPE_AWS));
          enrollment.awsToken = AwsToken.parse(jwt);
          return;
        }
        case "gcp" -> {
          select(exchange, enrollment, named(config, audience, ProvisionerConfig.TYPE_GCP));
          return;
        }
        default -> {
          // Another CA's type or a typo: the remaining audiences may still name one of ours.
        }
      }
    }
    Object tenant = claims.getClaim("tid");
    if (tenant instanceof String tenantId && !tenantId.isBlank()) {
      select(exchange, enrollment, azureProvisioner(config, tenantId, enrollment.provisionerName));
      return;
    }
    throw new IdentityRejectedException(STAGE, "token aud " + audiences
        + " names no provisioner of this CA: expected <ca-url>/1.0/sign#aws/<name> or"
        + " #gcp/<name>, or an Azure token with tid");
  }

  /** Returns whether the token parses as an unsecured JWT (RFC 7519, 6): a forgery, not noise. */
  private static boolean isUnsecured(String ott) {
    try {
      return JWTParser.parse(ott) instanceof PlainJWT;
    } catch (ParseException e) {
      return false;
    }
  }

  private static ProvisionerConfig named(CaConfig config, Audience audience, String type) {
    ProvisionerConfig provisioner = config.provisioner(audience.provisionerName())
        .filter(p -> p.type().equals(type))
        .orElseThrow(() -> new IdentityRejectedException(STAGE, "token names provisioner "
            + audience.type() + "/" + audience.provisionerName() + ", which does not exist"));
    return provisioner;
  }

  /**
   * Finds the Azure provisioner for a tenant: the one the request names, which must serve the
   * tenant, or else the tenant's only one.
   */
  private static ProvisionerConfig azureProvisioner(CaConfig config, String tenantId,
      String requestedName) {
    if (requestedName != null) {
      return config.provisioner(requestedName)
          .filter(ProvisionerConfig::isAzure)
          .filter(p -> p.azure().tenantId().equalsIgnoreCase(tenantId))
          .orElseThrow(() -> new IdentityRejectedException(STAGE, "request names provisioner "
              + requestedName + ", which is not an Azure provisioner of tenant " + tenantId));
    }
    List<ProvisionerConfig> candidates = config.provisioners().stream()
        .filter(ProvisionerConfig::isAzure)
        .filter(p -> p.azure().tenantId().equalsIgnoreCase(tenantId))
        .toList();
    if (candidates.size() == 1) {
      return candidates.get(0);
    }
    if (candidates.isEmpty()) {
      throw new IdentityRejectedException(STAGE, "no Azure provisioner serves tenant "
          + tenantId);
    }
    throw new IdentityRejectedException(STAGE, candidates.size() + " Azure provisioners serve"
        + " tenant " + tenantId + ": the request must name one in its provisioner field");
  }

  private static void select(Exchange exchange, Enrollment enrollment,
      ProvisionerConfig provisioner) {
    enrollment.provisioner = provisioner;
    enrollment.providerType = provisioner.typeKey();
    exchange.setProperty(Enrollment.PROVIDER_PROPERTY, provisioner.typeKey());
  }
}
