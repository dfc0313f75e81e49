package io.iidca.ca.gcp;

import com.nimbusds.jose.jwk.RSAKey;
import io.iidca.ca.error.UnavailableException;

/**
 * Google's token signing keys by key id ({@code kid}). Implementations are thread-safe.
 */
public interface GoogleKeySource {

  /**
   * Finds the RS256 public key with this key id, refreshing the keys first when the source
   * allows it.
   *
   * @return the key, or null when no key has this id after any refresh
   * @throws UnavailableException when the keys cannot be fetched and no usable copy is cached
   */
  RSAKey find(String kid);

  /** Returns where the keys come from, for messages: a URL or a file description. */
  String origin();
}
