package io.iidca.routes.client;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A listening socket on 127.0.0.1 whose accept queue is full, so that Linux drops further
 * connection attempts unanswered and a client's TCP connect hangs until its timeout.
 */
final class FullAcceptQueue implements AutoCloseable {

  private final ServerSocket server;
  private final List<Socket> queued = new ArrayList<>();

  FullAcceptQueue() throws IOException {
    server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    // The kernel takes the backlog plus one; a connect that times out shows the queue is full.
    for (int i = 0; i < 4; i++) {
      Socket socket = new Socket();
      try {
        socket.connect(server.getLocalSocketAddress(), 200);
        queued.add(socket);
      } catch (IOException full) {
        socket.close();
        break;
      }
    }
  }

  int port() {
    return server.getLocalPort();
  }

  /**
   * Accepts and closes the queued connections, so that the next connection attempt gets
   * through, and returns the listening socket for it.
   */
  ServerSocket drain() throws IOException {
    for (Socket socket : queued) {
      server.accept().close();
      socket.close();
    }
    queued.clear();
    return server;
  }

  @Override
  public void close() throws IOException {
    for (Socket socket : queued) {
      socket.close();
    }
    server.close();
  }
}
