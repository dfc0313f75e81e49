package io.iidca.cli;

/** A command line that cannot be run as typed; exits with status 2 and the command's usage. */
final class UsageException extends Exception {

  UsageException(String message) {
    super(message);
  }
}
