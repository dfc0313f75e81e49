package io.iidca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.Logger;

/** The logging of the iidca command, set up by {@link LoggingConfigurator}. */
class LoggingConfiguratorTest {

  private static final String FILE_PROPERTY = "logback.configurationFile";

  @AfterEach
  void clearProperty() {
    System.clearProperty(FILE_PROPERTY);
  }

  private static LoggerContext configured() {
    LoggerContext context = new LoggerContext();
    ExecutionStatus status = new LoggingConfigurator().configure(context);
    assertThat(status).isEqualTo(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
    return context;
  }

  @ParameterizedTest
  @CsvSource({
      "ROOT, INFO",
      "iidca.audit, INFO",
      "io.iidca.routes.server.CaServer, INFO",
      "org.apache.camel, WARN",
      "org.apache.camel.impl.engine.DefaultRoute, WARN",
      "org.apache.camel.impl.engine.AbstractCamelContext, OFF",
      "io.vertx.core.impl.ContextImpl, WARN",
      "io.netty.handler.ssl.SslHandler, WARN",
      "com.zaxxer.hikari.HikariDataSource, WARN",
      "org.flywaydb.core.Flyway, WARN"})
  void loggerLevels(String logger, String level) {
    LoggerContext context = configured();

    assertThat(context.getLogger(logger).getEffectiveLevel()).isEqualTo(Level.valueOf(level));
  }

  @Test
  void rootWritesPatternToStandardOutput() {
    LoggerContext context = configured();

    Appender<?> appender = context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("stdout");
    assertThat(appender).isInstanceOf(ConsoleAppender.class);
    ConsoleAppender<?> console = (ConsoleAppender<?>) appender;
    assertThat(console.getTarget()).isEqualTo("System.out");
    assertThat(console.isStarted()).isTrue();
    assertThat(((PatternLayoutEncoder) console.getEncoder()).getPattern())
        .isEqualTo("%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX,UTC} %-5level %logger{0} %msg%n");
  }

  @Test
  void patternParsedAtFirstEvent() {
    LoggerContext context = configured();
    ConsoleAppender<?> console = (ConsoleAppender<?>) context.getLogger(Logger.ROOT_LOGGER_NAME)
        .getAppender("stdout");
    PatternLayoutEncoder encoder = (PatternLayoutEncoder) console.getEncoder();
    LoggingEvent event = new LoggingEvent(LoggingConfiguratorTest.class.getName(),
        context.getLogger("io.iidca.ca.pki.Issuer"), Level.INFO, "issued {}", null,
        new Object[] {"42"});
    event.setInstant(Instant.parse("2026-12-04T10:15:30.123Z"));

    assertThat(encoder.isStarted()).isTrue();
    assertThat(encoder.getLayout()).isNull();
    assertThat(new String(encoder.encode(event), StandardCharsets.UTF_8))
        .isEqualTo("2026-12-04T10:15:30.123Z INFO  Issuer issued 42" + System.lineSeparator());
    assertThat(encoder.getLayout()).isNotNull();
  }

  @Test
  void configurationFilePropertyDefersToLogback() {
    System.setProperty(FILE_PROPERTY, "custom-logback.xml");
    LoggerContext context = new LoggerContext();

    ExecutionStatus status = new LoggingConfigurator().configure(context);

    assertThat(status).isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
    assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("stdout")).isNull();
  }

  @Test
  void serviceLoaderFindsConfigurator() {
    assertThat(ServiceLoader.load(Configurator.class).stream().map(ServiceLoader.Provider::type))
        .contains(LoggingConfigurator.class);
  }
}
