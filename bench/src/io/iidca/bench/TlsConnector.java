package io.iidca.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** Opens the load generator's TLS connections, each with its handshake complete. */
interface TlsConnector {

  /** Timeouts of every connector, so a stalled server cannot hang a load step. */
  int CONNECT_TIMEOUT_MILLIS = 5_000;
  int READ_TIMEOUT_MILLIS = 30_000;

  /** One connected TLS stream. Not thread-safe: one thread per connection. */
  interface Stream extends AutoCloseable {

    InputStream input() throws IOException;

    OutputStream output() throws IOException;

    /** Closes the stream so that the next connection to the same server makes a full handshake. */
    void closeWithoutResumption();

    @Override
    void close();
  }

  /**
   * Connects to {@code host:port} and completes a TLS handshake that offers only
   * {@code http/1.1} by ALPN and checks the server's certificate and host name.
   */
  Stream connect(String host, int port) throws IOException;
}
