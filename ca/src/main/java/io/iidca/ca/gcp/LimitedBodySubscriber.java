package io.iidca.ca.gcp;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse.BodySubscriber;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * Collects a response body into a byte array, and fails with {@link TooLargeException} and
 * cancels the body as soon as it exceeds a limit, so that a large body is never held in memory.
 * Used by one exchange at a time, as the HTTP client's body subscribers are. Public because the
 * Azure key cache uses it too.
 */
public final class LimitedBodySubscriber implements BodySubscriber<byte[]> {

  private final int maxBytes;
  private final ByteArrayOutputStream body = new ByteArrayOutputStream();
  private final CompletableFuture<byte[]> result = new CompletableFuture<>();
  private Flow.Subscription subscription;

  public LimitedBodySubscriber(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** A body over the limit. */
  public static final class TooLargeException extends IOException {
    private static final long serialVersionUID = 1L;

    TooLargeException(int maxBytes) {
      super("response body exceeds " + maxBytes + " bytes");
    }
  }

  @Override
  public CompletionStage<byte[]> getBody() {
    return result;
  }

  @Override
  public void onSubscribe(Flow.Subscription subscription) {
    this.subscription = subscription;
    subscription.request(Long.MAX_VALUE);
  }

  @Override
  public void onNext(List<ByteBuffer> buffers) {
    if (result.isDone()) {
      return;
    }
    for (ByteBuffer buffer : buffers) {
      if (body.size() + buffer.remaining() > maxBytes) {
        subscription.cancel();
        result.completeExceptionally(new TooLargeException(maxBytes));
        return;
      }
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      body.writeBytes(bytes);
    }
  }

  @Override
  public void onError(Throwable error) {
    result.completeExceptionally(error);
  }

  @Override
  public void onComplete() {
    result.complete(body.toByteArray());
  }
}
