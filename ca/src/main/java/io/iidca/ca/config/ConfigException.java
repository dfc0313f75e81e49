package io.iidca.ca.config;

/** A configuration value that is missing or invalid; the message names the key and the value. */
public final class ConfigException extends RuntimeException {

  private final String key;

  public ConfigException(String key, Object value, String problem) {
    super("invalid value " + (value == null ? "(missing)" : "'" + value + "'") + " for " + key
        + ": " + problem);
    this.key = key;
  }

  public ConfigException(String message) {
    super(message);
    this.key = null;
  }

  /** The YAML key, dotted, such as {@code provisioners[0].awsAccounts}; null when not one key. */
  public String key() {
    return key;
  }
}
