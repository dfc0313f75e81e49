package io.iidca.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CaCertificatesTest {

  private static final long NOW = Instant.parse("2026-12-05T00:30:00Z").toEpochMilli();

  @Test
  void serialStartsWithTimeAndHasFixedLength() {
    BigInteger serial = CaCertificates.timeOrderedSerial(NOW);

    assertThat(serial.signum()).isEqualTo(1);
    assertThat(serial.bitLength()).isEqualTo(127);
    assertThat(serial.toByteArray()).hasSize(16);
    assertThat(serial.toString(16)).hasSize(32);
    assertThat(serial.shiftRight(CaCertificates.RANDOM_SERIAL_BITS).clearBit(42).longValueExact())
        .isEqualTo(NOW);
  }

  @Test
  void laterSerialsSortAfterEarlierOnes() {
    List<BigInteger> serials = new ArrayList<>();
    for (long millis = NOW; millis < NOW + 50; millis++) {
      serials.add(CaCertificates.timeOrderedSerial(millis));
    }
    for (int i = 1; i < serials.size(); i++) {
      assertThat(serials.get(i)).isGreaterThan(serials.get(i - 1));
      assertThat(serials.get(i).toString(16)).isGreaterThan(serials.get(i - 1).toString(16));
    }
  }

  /** The Baseline Requirements ask for 64 random bits, and the serial has 84. */
  @Test
  void sameMillisecondSerialsDiffer() {
    Set<BigInteger> serials = new HashSet<>();
    BigInteger lowBits = BigInteger.ZERO;
    for (int i = 0; i < 2000; i++) {
      BigInteger serial = CaCertificates.timeOrderedSerial(NOW);
      serials.add(serial);
      lowBits = lowBits.or(serial.subtract(serial.shiftRight(84).shiftLeft(84)));
    }
    assertThat(serials).hasSize(2000);
    assertThat(CaCertificates.RANDOM_SERIAL_BITS).isGreaterThanOrEqualTo(64);
    // Every one of the 84 random bits was set in some serial.
    assertThat(lowBits).isEqualTo(BigInteger.ONE.shiftLeft(84).subtract(BigInteger.ONE));
  }

  @Test
  void serialCoversTheWholeTimeRange() {
    BigInteger first = CaCertificates.timeOrderedSerial(0);
    BigInteger last = CaCertificates.timeOrderedSerial(CaCertificates.MAX_SERIAL_MILLIS);

    assertThat(first.bitLength()).isEqualTo(127);
    assertThat(last.bitLength()).isEqualTo(127);
    assertThat(last.toByteArray()).hasSize(16);
    assertThat(Instant.ofEpochMilli(CaCertificates.MAX_SERIAL_MILLIS))
        .isAfter(Instant.parse("2109-01-01T00:00:00Z"));
  }

  @Test
  void timeOutsideRangeIsRejected() {
    assertThatThrownBy(() -> CaCertificates.timeOrderedSerial(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("-1 ms")
        .hasMessageContaining("check the system clock");
    assertThatThrownBy(() -> CaCertificates.timeOrderedSerial(
        CaCertificates.MAX_SERIAL_MILLIS + 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(Long.toString(CaCertificates.MAX_SERIAL_MILLIS + 1));
  }
}
