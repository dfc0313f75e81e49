package io.iidca.bench;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.internal.tcnative.SSL;
import io.netty.util.ReferenceCountUtil;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Connects with BoringSSL through netty-tcnative, the library that iidca's server uses, driving
 * its {@link SSLEngine} over a blocking socket.
 *
 * <p>A boot storm makes a full handshake per instance, and the load generator shares the two
 * cores with the CA it measures. With the JDK's client, the load generator spent 0.83 to 1.14
 * ms of CPU per enrollment in a storm, and with this one 0.47 to 0.54 ms (bench/RESULTS.md).
 * On a real storm each VM pays for its own handshake. The session cache is off, and every
 * handshake is checked to be a full one, so each connection costs the server what a new
 * instance costs it.
 */
final class BoringSslConnector implements TlsConnector {

  private final SslContext context;
  private final AtomicBoolean reported = new AtomicBoolean();

  /**
   * The key exchange groups, X25519 first. A BoringSSL client sends a key share for its first
   * group only, and the CA's BoringSSL prefers X25519, so a client that put P-256 first got a
   * HelloRetryRequest and a second key share (seen with {@code openssl s_client -groups
   * P-256:X25519 -msg}). iidca's JDK client sends shares for P-256 and X25519, and the CA takes
   * X25519 without a retry, as this client then does.
   */
  private static final String[] GROUPS = {"X25519", "P-256", "P-384"};

  /** Builds the client context; netty would otherwise take the groups from jdk.tls.namedGroups. */
  BoringSslConnector(X509ExtendedTrustManager trust) throws SSLException {
    context = SslContextBuilder.forClient()
        .sslProvider(SslProvider.OPENSSL_REFCNT)
        .option(OpenSslContextOption.GROUPS, GROUPS)
        .trustManager(trust)
        .applicationProtocolConfig(new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, "http/1.1"))
        .build();
    ((OpenSslSessionContext) context.sessionContext()).setSessionCacheEnabled(false);
  }

  /** Returns whether netty-tcnative's native library loads on this machine. */
  static boolean available() {
    return OpenSsl.isAvailable();
  }

  /** Returns why netty-tcnative's native library does not load, for the driver's log. */
  static String unavailabilityReason() {
    Throwable cause = OpenSsl.unavailabilityCause();
    return cause == null ? "none" : cause.toString();
  }

  @Override
  public Stream connect(String host, int port) throws IOException {
    Socket socket = new Socket();
    SSLEngine engine = null;
    try {
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(READ_TIMEOUT_MILLIS);
      socket.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MILLIS);
      engine = context.newEngine(ByteBufAllocator.DEFAULT, host, port);
      SSLParameters parameters = engine.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      engine.setSSLParameters(parameters);
      EngineStream stream = new EngineStream(socket, engine);
      stream.handshake();
      long ssl = ((ReferenceCountedOpenSslEngine) engine).sslPointer();
      if (SSL.isSessionReused(ssl)) {
        throw new IllegalStateException("the TLS session to " + host + ":" + port
            + " was resumed although the client's session cache is off");
      }
      if (reported.compareAndSet(false, true)) {
        System.err.println("load generator: first BoringSSL connection: "
            + engine.getSession().getProtocol() + ", key exchange " + groupName(ssl) + ", "
            + engine.getSession().getCipherSuite());
      }
      return stream;
    } catch (IOException | RuntimeException e) {
      ReferenceCountUtil.release(engine);
      socket.close();
      throw e;
    }
  }

  private static String groupName(long ssl) {
    try {
      return SSL.getGroupName(ssl);
    } catch (Exception e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }

  /**
   * An {@link SSLEngine} over a blocking socket. Each buffer stays in write mode (position at
   * the end of its data) between calls and is flipped only around an engine call or a copy.
   */
  private static final class EngineStream implements Stream {

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private final Socket socket;
    private final SSLEngine engine;
    private final InputStream socketIn;
    private final OutputStream socketOut;
    private final ByteBuffer netIn;
    private final ByteBuffer netOut;
    private final ByteBuffer appIn;
    private boolean released;

    EngineStream(Socket socket, SSLEngine engine) throws IOException {
      this.socket = socket;
      this.engine = engine;
      this.socketIn = socket.getInputStream();
      this.socketOut = socket.getOutputStream();
      int packet = engine.getSession().getPacketBufferSize();
      this.netIn = ByteBuffer.allocate(packet);
      this.netOut = ByteBuffer.allocate(packet);
      this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
    }

    void handshake() throws IOException {
      engine.beginHandshake();
      HandshakeStatus status = engine.getHandshakeStatus();
      while (status != HandshakeStatus.FINISHED && status != HandshakeStatus.NOT_HANDSHAKING) {
        status = switch (status) {
          case NEED_WRAP -> wrap(EMPTY);
          case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> unwrapHandshake();
          case NEED_TASK -> runTasks();
          default -> throw new SSLException("unexpected handshake status " + status);
        };
      }
    }

    /** Encrypts all of {@code source} and writes the records to the socket. */
    private HandshakeStatus wrap(ByteBuffer source) throws IOException {
      HandshakeStatus status;
      do {
        netOut.clear();
        SSLEngineResult result = engine.wrap(source, netOut);
        if (result.getStatus() != SSLEngineResult.Status.OK) {
          throw new SSLException("TLS wrap failed: " + result.getStatus());
        }
        socketOut.write(netOut.array(), 0, netOut.position());
        status = result.getHandshakeStatus();
      } while (source.hasRemaining());
      socketOut.flush();
      return status;
    }

    private HandshakeStatus unwrapHandshake() throws IOException {
      while (true) {
        SSLEngineResult result = unwrap();
        if (result.getStatus() == SSLEngineResult.Status.CLOSED) {
          throw new EOFException("the server closed the connection during the TLS handshake");
        }
        if (result.getStatus() == SSLEngineResult.Status.OK
            && (result.bytesConsumed() > 0 || result.bytesProduced() > 0)) {
          return result.getHandshakeStatus();
        }
        if (!fill()) {
          throw new EOFException("the server closed the connection during the TLS handshake");
        }
      }
    }

    private HandshakeStatus runTasks() {
      for (Runnable task = engine.getDelegatedTask(); task != null;
          task = engine.getDelegatedTask()) {
        task.run();
      }
      return engine.getHandshakeStatus();
    }

    private SSLEngineResult unwrap() throws SSLException {
      netIn.flip();
      try {
        SSLEngineResult result = engine.unwrap(netIn, appIn);
        if (result.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
          throw new SSLException("TLS record larger than the application buffer of "
              + appIn.capacity() + " bytes");
        }
        return result;
      } finally {
        netIn.compact();
      }
    }

    /** Reads more bytes from the socket into {@code netIn}; returns false at end of stream. */
    private boolean fill() throws IOException {
      if (!netIn.hasRemaining()) {
        throw new SSLException("TLS record larger than the network buffer of "
            + netIn.capacity() + " bytes");
      }
      int read = socketIn.read(netIn.array(), netIn.position(), netIn.remaining());
      if (read < 0) {
        return false;
      }
      netIn.position(netIn.position() + read);
      return true;
    }

    /**
     * Reads decrypted bytes, handling post-handshake messages such as TLS 1.3 session tickets
     * on the way; returns -1 at the end of the stream.
     */
    private int read(byte[] bytes, int offset, int length) throws IOException {
      while (appIn.position() == 0) {
        SSLEngineResult result = unwrap();
        switch (result.getStatus()) {
          case CLOSED -> {
            return -1;
          }
          case OK, BUFFER_UNDERFLOW -> {
            if (result.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
              wrap(EMPTY);
            } else if (result.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
              runTasks();
            }
            boolean progressed = result.bytesConsumed() > 0 || result.bytesProduced() > 0;
            if (!progressed && !fill()) {
              return -1;
            }
          }
          default -> throw new SSLException("TLS unwrap failed: " + result.getStatus());
        }
      }
      appIn.flip();
      int count = Math.min(length, appIn.remaining());
      appIn.get(bytes, offset, count);
      appIn.compact();
      return count;
    }

    @Override
    public InputStream input() {
      return new InputStream() {
        @Override
        public int read() throws IOException {
          byte[] single = new byte[1];
          return EngineStream.this.read(single, 0, 1) < 0 ? -1 : single[0] & 0xff;
        }

        @Override
        public int read(byte[] bytes, int offset, int length) throws IOException {
          return length == 0 ? 0 : EngineStream.this.read(bytes, offset, length);
        }
      };
    }

    @Override
    public OutputStream output() {
      return new OutputStream() {
        @Override
        public void write(int b) throws IOException {
          write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
          wrap(ByteBuffer.wrap(bytes, offset, length));
        }
      };
    }

    /** Closes the connection; the connector's session cache is off, so nothing is resumed. */
    @Override
    public void closeWithoutResumption() {
      close();
    }

    /** Sends close_notify when the socket still accepts it, closes it and frees the engine. */
    @Override
    public void close() {
      if (released) {
        return;
      }
      released = true;
      try {
        engine.closeOutbound();
        netOut.clear();
        engine.wrap(EMPTY, netOut);
        socketOut.write(netOut.array(), 0, netOut.position());
        socketOut.flush();
      } catch (IOException ignored) {
        // The server may have closed first; the connection is discarded either way.
      } finally {
        try {
          socket.close();
        } catch (IOException ignored) {
          // As above.
        }
        ReferenceCountUtil.release(engine);
      }
    }
  }
}
