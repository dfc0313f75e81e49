package io.iidca.ca.pki;

import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.util.IPAddress;

/**
 * Turns names as users type them into subject alternative names (RFC 5280, 4.2.1.6): an IPv4
 * or IPv6 literal becomes an iPAddress, text with {@code @} an rfc822Name, text with
 * {@code ://} a uniformResourceIdentifier, anything else a dNSName. No name is resolved.
 */
public final class SubjectNames {

  private SubjectNames() {}

  public static GeneralName toGeneralName(String name) {
    if (isIpAddress(name)) {
      return new GeneralName(GeneralName.iPAddress, name);
    }
    if (name.contains("://")) {
      return new GeneralName(GeneralName.uniformResourceIdentifier, name);
    }
    if (name.contains("@")) {
      return new GeneralName(GeneralName.rfc822Name, name);
    }
    return new GeneralName(GeneralName.dNSName, name);
  }

  public static GeneralNames toGeneralNames(List<String> names) {
    List<GeneralName> list = new ArrayList<>();
    for (String name : names) {
      list.add(toGeneralName(name));
    }
    return new GeneralNames(list.toArray(GeneralName[]::new));
  }

  public static boolean isIpAddress(String name) {
    return IPAddress.isValid(name);
  }
}
