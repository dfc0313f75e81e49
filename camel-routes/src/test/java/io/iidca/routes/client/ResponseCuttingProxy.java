package io.iidca.routes.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on 127.0.0.1 in front of a TLS server, which loses the response of the first
 * {@code cuts} connections: once the client has sent more than {@code requestBytes} (its
 * handshake and its request), the proxy closes the client's socket at the server's next bytes
 * and drops them, but keeps the server's side open until the server closes it. So the server
 * processes the request in full and the client never sees the response.
 */
final class ResponseCuttingProxy implements AutoCloseable {

  private final ServerSocket listener;
  private final InetSocketAddress upstream;
  private final int requestBytes;
  private final AtomicInteger cutsLeft;
  private final AtomicInteger connections = new AtomicInteger();

  ResponseCuttingProxy(URI upstreamUrl, int cuts, int requestBytes) throws IOException {
    this.upstream = new InetSocketAddress(upstreamUrl.getHost(), upstreamUrl.getPort());
    this.requestBytes = requestBytes;
    this.cutsLeft = new AtomicInteger(cuts);
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "cutting-proxy");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Returns the proxy's URL: the upstream URL with the proxy's port. */
  URI url() {
    return URI.create("https://127.0.0.1:" + listener.getLocalPort());
  }

  /** Returns how many connections the proxy accepted. */
  int connections() {
    return connections.get();
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        connections.incrementAndGet();
        Socket server = new Socket(upstream.getAddress(), upstream.getPort());
        boolean cut = cutsLeft.getAndDecrement() > 0;
        AtomicLong sent = new AtomicLong();
        InputStream fromClient = client.getInputStream();
        OutputStream toServer = server.getOutputStream();
        InputStream fromServer = server.getInputStream();
        OutputStream toClient = client.getOutputStream();
        start(() -> pump(fromClient, toServer, sent, -1, null));
        start(() -> pump(fromServer, toClient, sent, cut ? requestBytes : Integer.MAX_VALUE,
            client));
      } catch (IOException e) {
        // Closed, or a connection that failed: the client sees a reset.
      }
    }
  }

  /**
   * Copies {@code in} to {@code out} until {@code in} ends. With a {@code cutAfter} of zero or
   * more, the first bytes read once {@code sent} exceeds it close {@code client} and are
   * dropped with all that follow. {@code sent} counts the client's bytes when
   * {@code cutAfter} is negative.
   */
  private static void pump(InputStream in, OutputStream out, AtomicLong sent, int cutAfter,
      Socket client) {
    byte[] buffer = new byte[16 * 1024];
    boolean dropping = false;
    try (in; out) {
      int read;
      while ((read = in.read(buffer)) >= 0) {
        if (cutAfter < 0) {
          sent.addAndGet(read);
        } else if (!dropping && sent.get() > cutAfter) {
          dropping = true;
          client.close();
        }
        if (!dropping) {
          out.write(buffer, 0, read);
          out.flush();
        }
      }
    } catch (IOException e) {
      // One side closed: closing both streams ends the other pump.
    }
  }

  private static void start(Runnable pump) {
    Thread thread = new Thread(pump, "cutting-proxy-pump");
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }
}
