package io.iidca.routes.client;

import java.security.cert.X509Certificate;
import java.util.List;

/** The outcome of an enrollment: the certificate, its chain and the files written. */
public record EnrollmentResult(X509Certificate certificate, List<X509Certificate> chain) {}
