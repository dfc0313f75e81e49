package io.iidca.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/** Connects with the JDK's TLS ({@link SSLSocket}) and the providers installed in the JVM. */
final class JdkTlsConnector implements TlsConnector {

  private final SSLSocketFactory factory;

  JdkTlsConnector(SSLSocketFactory factory) {
    this.factory = factory;
  }

  @Override
  public Stream connect(String host, int port) throws IOException {
    SSLSocket socket = (SSLSocket) factory.createSocket();
    try {
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(READ_TIMEOUT_MILLIS);
      socket.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MILLIS);
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      parameters.setApplicationProtocols(new String[] {"http/1.1"});
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      return new SocketStream(socket);
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  private record SocketStream(SSLSocket socket) implements Stream {

    @Override
    public InputStream input() throws IOException {
      return socket.getInputStream();
    }

    @Override
    public OutputStream output() throws IOException {
      return socket.getOutputStream();
    }

    /** Removes the TLS session from the client's cache, which would otherwise resume it. */
    @Override
    public void closeWithoutResumption() {
      socket.getSession().invalidate();
      close();
    }

    @Override
    public void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // The connection is discarded either way.
      }
    }
  }
}
