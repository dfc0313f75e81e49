package io.iidca.routes.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.iidca.testkit.pki.TestCa;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClientCertificatesTest {

  @TempDir Path directory;

  @Test
  void missingCertificateIsLookedUpOnce() {
    FakeSession session = new FakeSession(null);

    assertNull(ClientCertificates.of(session.proxy()));
    assertNull(ClientCertificates.of(session.proxy()));
    assertNull(ClientCertificates.of(session.proxy()));

    assertEquals(1, session.peerCalls.get());
  }

  @Test
  void presentedCertificateIsReturnedEachTime() throws Exception {
    X509Certificate leaf = TestCa.create(directory).root();
    FakeSession session = new FakeSession(new Certificate[] {leaf});

    assertSame(leaf, ClientCertificates.of(session.proxy()));
    assertSame(leaf, ClientCertificates.of(session.proxy()));

    assertEquals(1, session.peerCalls.get());
  }

  @Test
  void sessionsAreCachedSeparately() throws Exception {
    X509Certificate leaf = TestCa.create(directory).root();
    FakeSession withCertificate = new FakeSession(new Certificate[] {leaf});
    FakeSession without = new FakeSession(null);

    assertNull(ClientCertificates.of(without.proxy()));
    assertSame(leaf, ClientCertificates.of(withCertificate.proxy()));
    assertNull(ClientCertificates.of(without.proxy()));
  }

  @Test
  void emptyChainIsNoCertificate() {
    FakeSession session = new FakeSession(new Certificate[0]);

    assertNull(ClientCertificates.of(session.proxy()));
    assertNull(ClientCertificates.of(session.proxy()));

    assertEquals(1, session.peerCalls.get());
  }

  /** An SSLSession that stores values and counts the calls for its peer certificates. */
  private static final class FakeSession {
    private final Certificate[] chain;
    private final Map<String, Object> values = new HashMap<>();
    private final AtomicInteger peerCalls = new AtomicInteger();
    private final SSLSession proxy;

    FakeSession(Certificate[] chain) {
      this.chain = chain;
      this.proxy = (SSLSession) Proxy.newProxyInstance(getClass().getClassLoader(),
          new Class<?>[] {SSLSession.class}, (self, method, arguments) -> switch (
              method.getName()) {
            case "getPeerCertificates" -> peerCertificates();
            case "getValue" -> values.get((String) arguments[0]);
            case "putValue" -> values.put((String) arguments[0], arguments[1]);
            default -> throw new UnsupportedOperationException(method.getName());
          });
    }

    SSLSession proxy() {
      return proxy;
    }

    private Certificate[] peerCertificates() throws SSLPeerUnverifiedException {
      peerCalls.incrementAndGet();
      if (chain == null) {
        throw new SSLPeerUnverifiedException("peer not authenticated");
      }
      return chain.clone();
    }
  }
}
