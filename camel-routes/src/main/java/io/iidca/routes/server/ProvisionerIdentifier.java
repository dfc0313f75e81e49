package io.iidca.routes.server;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.iidca.ca.error.IdentityRejectedException;
import io.iidca.ca.error.MalformedRequestException;
import io.iidca.ca.provisioner.Audience;
import io.iidca.ca.provisioner.AwsToken;
import java.text.ParseException;
import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The identify stage: reads the token's unverified audience to find the provisioner it names
 * ({@code #aws/NAME}) and selects the verify route. Nothing is trusted or written here.
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
    SignedJWT jwt;
    List<String> audiences;
    try {
      jwt = SignedJWT.parse(enrollment.ott);
      JWTClaimsSet claims = jwt.getJWTClaimsSet();
      audiences = claims.getAudience();
    } catch (ParseException e) {
      throw new MalformedRequestException(STAGE, "ott is not a signed JWT");
    }
    for (String value : audiences) {
      Audience audience = Audience.parse(value).orElse(null);
      if (audience == null) {
        continue;
      }
      if (audience.type().equals("aws")) {
        enrollment.provisioner = runtime.awsProvisioner(audience.provisionerName())
            .orElseThrow(() -> new IdentityRejectedException(STAGE, "token names provisioner"
                + " aws/" + audience.provisionerName() + ", which does not exist"))
            .config();
        enrollment.providerType = "aws";
        exchange.setProperty(Enrollment.PROVIDER_PROPERTY, "aws");
        enrollment.awsToken = AwsToken.parse(jwt);
        return;
      }
    }
    throw new IdentityRejectedException(STAGE, "token aud " + audiences
        + " names no provisioner of this CA: expected <ca-url>/1.0/sign#aws/<name>");
  }
}
