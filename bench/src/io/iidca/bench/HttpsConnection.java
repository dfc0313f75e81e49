package io.iidca.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One HTTP/1.1 connection over TLS that sends prebuilt requests one after another on the same
 * connection (keep-alive, no pipelining). It reads responses framed by {@code Content-Length} or
 * {@code Transfer-Encoding: chunked} (HTTP/1.1, RFC 9112) and keeps only the status,
 * {@code Retry-After}, whether the server closes the connection, and the first bytes of the body.
 *
 * <p>The connector checks the server's certificate and host name (endpoint identification
 * {@code HTTPS}). The driver's connectors check each host and leaf certificate once
 * ({@link PinningTrustManager}). Not thread-safe: one thread per connection.
 */
final class HttpsConnection implements AutoCloseable {

  private static final int SNIPPET_BYTES = 200;
  private static final int MAX_LINE_BYTES = 8192;

  /** The parts of a response that the bench reports. */
  record Response(int status, int retryAfterSeconds, boolean closes, String snippet) {}

  private final TlsConnector.Stream stream;
  private final InputStream in;
  private final OutputStream out;
  private final byte[] skip = new byte[16 * 1024];

  private HttpsConnection(TlsConnector.Stream stream) throws IOException {
    this.stream = stream;
    this.in = new BufferedInputStream(stream.input(), 16 * 1024);
    this.out = new BufferedOutputStream(stream.output(), 16 * 1024);
  }

  /** Connects and completes the TLS handshake with {@code connector}. */
  static HttpsConnection open(TlsConnector connector, String host, int port)
      throws IOException {
    TlsConnector.Stream stream = connector.connect(host, port);
    try {
      return new HttpsConnection(stream);
    } catch (IOException | RuntimeException e) {
      stream.close();
      throw e;
    }
  }

  /** Sends one complete request (head and body) and reads its response. */
  Response exchange(byte[] request) throws IOException {
    out.write(request);
    out.flush();
    return readResponse();
  }

  /**
   * Closes the connection so that the next one makes a full handshake, as a different machine
   * would.
   */
  void closeWithoutResumption() {
    stream.closeWithoutResumption();
  }

  @Override
  public void close() {
    stream.close();
  }

  private Response readResponse() throws IOException {
    String statusLine = readLine();
    String[] parts = statusLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
      throw new IOException("invalid HTTP status line: " + statusLine);
    }
    int status = Integer.parseInt(parts[1]);
    Head head = readHeaders(parts[0].equals("HTTP/1.0"));

    StringBuilder snippet = new StringBuilder();
    if (head.chunked()) {
      readChunked(snippet);
    } else if (head.length() >= 0) {
      readBody(head.length(), snippet);
    } else {
      throw new IOException("response " + status + " has neither Content-Length nor chunked"
          + " framing");
    }
    return new Response(status, head.retryAfterSeconds(), head.closes(), snippet.toString());
  }

  /** The header fields that frame the body or matter to the bench; length is -1 if absent. */
  private record Head(long length, boolean chunked, boolean closes, int retryAfterSeconds) {}

  private Head readHeaders(boolean closesByDefault) throws IOException {
    long length = -1;
    boolean chunked = false;
    boolean closes = closesByDefault;
    int retryAfter = -1;
    for (String line = readLine(); !line.isEmpty(); line = readLine()) {
      int colon = line.indexOf(':');
      if (colon <= 0) {
        continue;
      }
      String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = line.substring(colon + 1).trim();
      switch (name) {
        case "content-length" -> length = Long.parseLong(value);
        case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
        case "connection" -> closes = value.equalsIgnoreCase("close");
        case "retry-after" -> retryAfter = parseRetryAfter(value);
        default -> { }
      }
    }
    return new Head(length, chunked, closes, retryAfter);
  }

  private void readChunked(StringBuilder snippet) throws IOException {
    while (true) {
      String sizeLine = readLine();
      int semicolon = sizeLine.indexOf(';');
      String hex = semicolon >= 0 ? sizeLine.substring(0, semicolon) : sizeLine;
      long size = Long.parseLong(hex.trim(), 16);
      if (size == 0) {
        // Trailer fields end with an empty line.
        while (!readLine().isEmpty()) {
          continue;
        }
        return;
      }
      readBody(size, snippet);
      readLine();
    }
  }

  private void readBody(long length, StringBuilder snippet) throws IOException {
    long remaining = length;
    while (remaining > 0) {
      int read = in.read(skip, 0, (int) Math.min(skip.length, remaining));
      if (read < 0) {
        throw new EOFException("connection closed with " + remaining + " body bytes unread");
      }
      if (snippet.length() < SNIPPET_BYTES) {
        int keep = Math.min(read, SNIPPET_BYTES - snippet.length());
        snippet.append(new String(skip, 0, keep, StandardCharsets.UTF_8));
      }
      remaining -= read;
    }
  }

  private String readLine() throws IOException {
    StringBuilder line = new StringBuilder(64);
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("connection closed by the server");
      }
      if (b == '\n') {
        int end = line.length();
        if (end > 0 && line.charAt(end - 1) == '\r') {
          line.setLength(end - 1);
        }
        return line.toString();
      }
      if (line.length() >= MAX_LINE_BYTES) {
        throw new IOException("HTTP line longer than " + MAX_LINE_BYTES + " bytes");
      }
      line.append((char) b);
    }
  }

  /** Returns Retry-After in seconds; an HTTP date or an invalid value counts as 1 second. */
  private static int parseRetryAfter(String value) {
    try {
      return Math.max(0, Integer.parseInt(value));
    } catch (NumberFormatException e) {
      return 1;
    }
  }
}
