package io.iidca.testkit.http;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The HTTP server under a metadata emulator: the JDK's {@link HttpServer} bound to one address,
 * serving every path with one handler on a pool of {@value #THREADS} daemon threads. It binds
 * only the address that it is given, so the caller chooses between loopback and anything else.
 * Thread-safe.
 */
public final class EmulatorServer {

  /** Number of threads that serve requests. */
  public static final int THREADS = 4;

  static {
    // The JDK's server sends with Nagle's algorithm unless this property is set before its first
    // use. Against the JDK client's delayed acknowledgements, that added about 40 ms to each
    // request on a kept-alive connection, three times per enrollment.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }

  private final HttpServer server;
  private final ExecutorService executor;
  private final URI endpoint;

  private EmulatorServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
    this.endpoint = uriOf(server.getAddress());
  }

  /**
   * Binds {@code listen} and starts serving every path with {@code handler}.
   *
   * @param stage the prefix of the error message, such as {@code aws-imds}, and the middle of
   *     the serving threads' names, {@code iidca-STAGE-N}
   * @throws UncheckedIOException naming the stage and the address when the address cannot be
   *     bound
   */
  public static EmulatorServer start(String stage, InetSocketAddress listen,
      HttpHandler handler) {
    HttpServer server;
    try {
      server = HttpServer.create(listen, 0);
    } catch (IOException e) {
      throw new UncheckedIOException(stage + ": cannot listen on " + listen.getHostString()
          + ":" + listen.getPort() + ": " + e.getMessage(), e);
    }
    ExecutorService executor = Executors.newFixedThreadPool(THREADS, daemonThreads(stage));
    server.createContext("/", handler);
    server.setExecutor(executor);
    server.start();
    return new EmulatorServer(server, executor);
  }

  /**
   * Returns the base URI, {@code http://host:port}, without a trailing slash. An IPv6 host is
   * in brackets, without a scope id.
   */
  public URI endpoint() {
    return endpoint;
  }

  /** Stops serving, closes every connection at once and stops the threads. */
  public void stop() {
    server.stop(0);
    executor.shutdownNow();
  }

  private static URI uriOf(InetSocketAddress address) {
    InetAddress host = address.getAddress();
    String literal = host.getHostAddress();
    if (host instanceof Inet6Address) {
      literal = "[" + literal.replaceFirst("%.*$", "") + "]";
    }
    return URI.create("http://" + literal + ":" + address.getPort());
  }

  private static ThreadFactory daemonThreads(String stage) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, "iidca-" + stage + "-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
