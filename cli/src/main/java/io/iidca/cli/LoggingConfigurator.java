package io.iidca.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import ch.qos.logback.core.status.NopStatusListener;
import java.util.Map;

/**
 * Logging of the iidca command, set up in code so that a client command does not load
 * logback's XML configuration classes and the JDK's XML parser: about 380 classes fewer for
 * {@code iidca certificate}, counted with {@code -Xlog:class+load}. The CA's audit lines (logger
 * {@code iidca.audit}) and start-up messages go to standard output at INFO. Camel, Vert.x,
 * Netty, HikariCP and Flyway log only warnings, and Camel's own copy of a failed start, which
 * {@code iidca serve} reports with the fix, is off.
 *
 * <p>Logback finds this class through {@code META-INF/services}. When the system property
 * {@code logback.configurationFile} is set, this class does nothing and logback reads that
 * file instead.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_NORMAL_PRIORITY)
public final class LoggingConfigurator extends ContextAwareBase implements Configurator {

  private static final String PATTERN =
      "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX,UTC} %-5level %logger{0} %msg%n";

  private static final Map<String, Level> LEVELS = Map.of(
      "org.apache.camel", Level.WARN,
      "org.apache.camel.impl.engine.AbstractCamelContext", Level.OFF,
      "io.vertx", Level.WARN,
      "io.netty", Level.WARN,
      "com.zaxxer.hikari", Level.WARN,
      "org.flywaydb", Level.WARN);

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    // Logback prints its own status messages unless a status listener is registered.
    NopStatusListener quiet = new NopStatusListener();
    context.getStatusManager().add(quiet);

    PatternLayoutEncoder encoder = new DeferredPatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();
    ConsoleAppender<ILoggingEvent> stdout = new ConsoleAppender<>();
    stdout.setContext(context);
    stdout.setName("stdout");
    stdout.setEncoder(encoder);
    stdout.start();

    ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.INFO);
    root.addAppender(stdout);
    LEVELS.forEach((name, level) -> context.getLogger(name).setLevel(level));
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /**
   * A {@link PatternLayoutEncoder} that parses its pattern at the first log event instead of
   * at start, because most client commands log nothing. Parsing the pattern loads about 150
   * classes (logback's converters, regular expressions, {@code java.time} formatting), which
   * took about 25 ms of {@code iidca certificate}'s start in one class-load log (JDK 17, 2-core
   * VM busy with other work). The pattern has no header, so the appender's call of {@code
   * headerBytes()} before the layout exists returns null and writes nothing. Thread-safe: the
   * layout starts under this object's lock.
   */
  static final class DeferredPatternLayoutEncoder extends PatternLayoutEncoder {

    private boolean layoutStarted;

    @Override
    public void start() {
      started = true;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
      startLayout();
      return super.encode(event);
    }

    private synchronized void startLayout() {
      if (!layoutStarted) {
        super.start();
        layoutStarted = true;
      }
    }
  }
}
