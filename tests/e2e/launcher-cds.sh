#!/usr/bin/env bash
# Checks the class-data sharing (AppCDS) archive of the launcher cli/target/iidca/bin/iidca.
# The first part runs the launcher with a stub JDK that records its arguments, so each decision
# of the launcher is checked on its own: which commands record a class list, and when the
# archive is dumped and used. It also checks that an unwritable cache directory, an archive of
# another user, another JDK, a failed command and a failed dump all leave the command running
# without an archive. The second part uses the real JDK: iidca certificate against a CA and the
# AWS metadata emulator on 127.0.0.1 writes an archive that the JVM maps with -Xshare:on, and
# the next enrollment works with it. Runs on loopback. The checks on file owners need root and
# are skipped otherwise.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"
install_cleanup_trap

ensure_built
make_temp_dir WORK
CAPTURE_DIR=$WORK/logs
mkdir "$CAPTURE_DIR"
# Upper bound in seconds for the background dump of an archive.
DUMP_TIMEOUT=120

# --- Stub JDK --------------------------------------------------------------------------------

STUB_JDK=$WORK/jdk
mkdir -p "$STUB_JDK/bin" "$STUB_JDK/lib/server"
echo 'JAVA_VERSION="17.0.99"' >"$STUB_JDK/release"
: >"$STUB_JDK/lib/server/libjvm.so"
# The stub appends its arguments to $STUB_LOG, one line per call, and exits with $STUB_STATUS.
# For -XX:DumpLoadedClassList it writes a class list with a @lambda-proxy line. For
# -Xshare:dump it copies the class list it was given to $STUB_LOG.dumped and writes the
# archive, unless STUB_DUMP_FAIL is set: "all" fails every dump, "lambda" only a dump whose
# class list has @lambda-proxy lines.
cat >"$STUB_JDK/bin/java" <<'EOF'
#!/bin/sh
printf '%s\n' "$*" >>"$STUB_LOG"
dump= archive= list=
for argument; do
  case $argument in
    -XX:DumpLoadedClassList=*)
      printf 'java/lang/Object\n@lambda-proxy a/B run ()V\nio/iidca/cli/Main\n' \
        >"${argument#*=}" ;;
    -XX:SharedArchiveFile=*) archive=${argument#*=} ;;
    -XX:SharedClassListFile=*) list=${argument#*=} ;;
    -Xshare:dump) dump=1 ;;
  esac
done
if [ -n "$dump" ]; then
  cp "$list" "$STUB_LOG.dumped"
  [ "${STUB_DUMP_FAIL:-}" != all ] || exit 1
  if [ "${STUB_DUMP_FAIL:-}" = lambda ] && grep -q '^@lambda-proxy' "$list"; then
    exit 1
  fi
  echo archive >"$archive"
fi
exit "${STUB_STATUS:-0}"
EOF
chmod 755 "$STUB_JDK/bin/java"

# stub_run NAME CACHE COMMAND...: runs the launcher with the stub JDK and cache directory CACHE
# (empty for the default), then waits for a background dump to finish. The stub's calls are in
# $WORK/NAME.calls afterwards.
stub_run() {
  local name=$1 cache=$2
  shift 2
  export STUB_LOG=$WORK/$name.calls
  : >"$STUB_LOG"
  run_captured "$name" "" env JAVA_HOME="$STUB_JDK" IIDCA_CDS_DIR="$cache" "$IIDCA_BIN" "$@"
  local deadline=$((SECONDS + 10))
  while ((SECONDS < deadline)) && [[ -n $cache ]] &&
    compgen -G "$cache/*.classlist*" >/dev/null; do
    sleep 0.1
  done
}

# expect_calls NAME PATTERN EXPECTED DESCRIPTION: counts the stub's calls of run NAME that
# match the extended regular expression PATTERN.
expect_calls() {
  local name=$1 pattern=$2 expected=$3 description=$4
  expect_equal "$(grep -cE -- "$pattern" "$WORK/$name.calls" || true)" "$expected" "$description"
}

CACHE=$WORK/cache/cds

stub_run serve "$CACHE" serve --password-file x
expect_status serve 0 "serve with the stub JDK"
expect_calls serve 'SharedArchiveFile|DumpLoadedClassList' 0 \
  "serve gets no class-data options"
expect_equal "$([[ -e $CACHE ]] && echo created || echo absent)" absent \
  "serve does not create the cache directory"
expect_calls serve '^-XX:\+UseParallelGC .*io\.iidca\.cli\.Main serve' 1 \
  "serve runs with the parallel collector"
expect_calls serve '-XX:InitialRAMPercentage=25 .*io\.iidca\.cli\.Main serve' 1 \
  "serve starts its heap at a quarter of the RAM"
# serve requests transparent huge pages where the kernel gives them on request.
if grep -q '\[madvise\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null; then
  huge_pages=1
else
  huge_pages=0
fi
expect_calls serve '-XX:\+UseTransparentHugePages .*io\.iidca\.cli\.Main serve' "$huge_pages" \
  "serve requests huge pages exactly when the kernel is in madvise mode"

# The JVM does not start with two collectors, so one chosen in the environment replaces the
# launcher's.
JAVA_OPTS=-XX:+UseG1GC stub_run serve-g1 "$CACHE" serve --password-file x
expect_calls serve-g1 '^(-XX:\+UseTransparentHugePages )?-XX:\+UseG1GC -cp .*Main serve' 1 \
  "serve with JAVA_OPTS=-XX:+UseG1GC gets G1 alone"
expect_calls serve-g1 'InitialRAMPercentage' 0 \
  "serve with a collector chosen in JAVA_OPTS keeps the JVM's initial heap"
# An -Xms sets the initial heap on the command line, which the JVM prefers to the percentage.
JAVA_OPTS="-Xms256m" stub_run serve-xms "$CACHE" serve --password-file x
expect_calls serve-xms '-XX:InitialRAMPercentage=25 .*-Xms256m -cp .*Main serve' 1 \
  "serve passes an -Xms of JAVA_OPTS after its own initial heap"
JAVA_OPTS="-Xmx1g -XX:+UseParallelGC" stub_run serve-parallel "$CACHE" serve --password-file x
expect_calls serve-parallel '-XX:\+UseParallelGC .*io\.iidca\.cli\.Main serve' 1 \
  "serve with the parallel collector in JAVA_OPTS gets it"
expect_calls serve-parallel 'UseParallelGC.*UseParallelGC' 0 \
  "serve with the parallel collector in JAVA_OPTS gets it once"
JDK_JAVA_OPTIONS=-XX:+UseZGC stub_run version-zgc "" version
expect_calls version-zgc '^-XX:TieredStopAtLevel=1 .*io\.iidca\.cli\.Main version' 1 \
  "a short command keeps C1 alone when JDK_JAVA_OPTIONS chooses a collector"
expect_calls version-zgc 'UseSerialGC' 0 \
  "a short command leaves out the serial collector when JDK_JAVA_OPTIONS chooses another"
expect_calls version-zgc 'UseTransparentHugePages' 0 "a short command requests no huge pages"
JAVA_TOOL_OPTIONS=-XX:+UseG1GC stub_run serve-tool-options "" serve --password-file x
expect_calls serve-tool-options 'UseParallelGC' 0 \
  "serve leaves out its collector when JAVA_TOOL_OPTIONS chooses one"
JAVA_OPTS=-XX:+UseGCOverheadLimit stub_run serve-other-gc-option "" serve --password-file x
expect_calls serve-other-gc-option '^-XX:\+UseParallelGC .*-XX:\+UseGCOverheadLimit' 1 \
  "a collector option that chooses no collector keeps the launcher's"

stub_run version-before "$CACHE" version
expect_calls version-before 'SharedArchiveFile|DumpLoadedClassList' 0 \
  "version without an archive gets no class-data options"
expect_equal "$([[ -e $CACHE ]] && echo created || echo absent)" absent \
  "version does not create the cache directory"

stub_run daemon "$CACHE" renew a.crt a.key --daemon
expect_calls daemon 'DumpLoadedClassList' 0 "renew --daemon does not record a class list"

STUB_STATUS=3 stub_run failed-certificate "$CACHE" certificate app a.crt a.key
expect_status failed-certificate 3 "a failed certificate's exit status passes through"
expect_calls failed-certificate 'DumpLoadedClassList' 1 \
  "certificate without an archive records a class list"
expect_calls failed-certificate '-Xshare:dump' 0 "a failed certificate starts no dump"
expect_equal "$(list_directory "$CACHE")" "" "a failed certificate leaves no file in the cache"
expect_equal "$(stat -c %a "$CACHE")" 700 "certificate creates the cache directory with mode 700"

# An archive of an older build and a class list of a stopped run, which the dump removes.
: >"$CACHE/iidca-1.jsa"
: >"$CACHE/iidca-1.99.classlist"
stub_run certificate "$CACHE" certificate app a.crt a.key
expect_status certificate 0 "certificate with the stub JDK"
expect_calls certificate '-Xshare:dump' 1 "a successful certificate starts one dump"
archive=$(find "$CACHE" -name 'iidca-*.jsa')
expect_equal "$(list_directory "$CACHE")" "$(basename "$archive")" \
  "the cache holds only the new archive after the dump"
expect_equal "$(grep -c '^@lambda-proxy' "$WORK/certificate.calls.dumped" || true)" 1 \
  "the dump gets the class list with its @lambda-proxy lines"
expect_equal "$(grep -c '^io/iidca/cli/Main$' "$WORK/certificate.calls.dumped" || true)" 1 \
  "the dump gets the class list's classes"

# While one run records a class list or dumps, the others run without either. A lock older
# than 10 minutes was left by a killed run.
LOCKED_CACHE=$WORK/locked/cds
LOCK=$LOCKED_CACHE/$(basename "$archive" .jsa).lock
mkdir -p "$LOCKED_CACHE"
chmod 700 "$LOCKED_CACHE"
mkdir "$LOCK"
stub_run locked "$LOCKED_CACHE" certificate app a.crt a.key
expect_status locked 0 "certificate runs while another run holds the lock"
expect_calls locked 'SharedArchiveFile|DumpLoadedClassList' 0 \
  "certificate records no class list while another run holds the lock"
touch -d '11 minutes ago' "$LOCK"
stub_run stale-lock "$LOCKED_CACHE" certificate app a.crt a.key
expect_calls stale-lock '-Xshare:dump' 1 "certificate takes over a lock older than 10 minutes"
expect_equal "$(list_directory "$LOCKED_CACHE")" "$(basename "$archive")" \
  "the dump releases the lock"

stub_run version-after "$CACHE" version
expect_calls version-after "-XX:SharedArchiveFile=$archive -Xshare:auto -Xlog:cds=off" 1 \
  "version uses the archive"
stub_run serve-after "$CACHE" serve --password-file x
expect_calls serve-after 'SharedArchiveFile' 0 "serve does not use the archive"
IIDCA_CDS=off stub_run disabled "$CACHE" version
expect_calls disabled 'SharedArchiveFile|DumpLoadedClassList' 0 \
  "IIDCA_CDS=off turns the archive off"
JAVA_OPTS=-Xmx64m stub_run other-options "$CACHE" version
expect_calls other-options 'SharedArchiveFile' 0 \
  "other JAVA_OPTS do not use the archive made without them"

echo 'JAVA_VERSION="17.0.100"' >"$STUB_JDK/release"
stub_run other-jdk "$CACHE" version
expect_calls other-jdk 'SharedArchiveFile' 0 "another JDK build does not use the archive"
echo 'JAVA_VERSION="17.0.99"' >"$STUB_JDK/release"

LAMBDA_CACHE=$WORK/lambda/cds
STUB_DUMP_FAIL=lambda stub_run lambda-fails "$LAMBDA_CACHE" certificate app a.crt a.key
expect_calls lambda-fails '-Xshare:dump' 2 \
  "a dump that fails with @lambda-proxy lines is tried once more"
expect_equal "$(grep -c '^@lambda-proxy' "$WORK/lambda-fails.calls.dumped" || true)" 0 \
  "the second dump gets the class list without @lambda-proxy lines"
expect_equal "$(find "$LAMBDA_CACHE" -name 'iidca-*.jsa' | wc -l)" 1 \
  "the second dump writes the archive"

FAILING_CACHE=$WORK/failing/cds
STUB_DUMP_FAIL=all stub_run dump-fails "$FAILING_CACHE" certificate app a.crt a.key
expect_status dump-fails 0 "certificate succeeds when the dump fails"
expect_equal "$(find "$FAILING_CACHE" -name '*.jsa.failed' | wc -l)" 1 \
  "a failed dump leaves a .failed file"
stub_run after-failed-dump "$FAILING_CACHE" certificate app a.crt a.key
expect_calls after-failed-dump 'DumpLoadedClassList' 0 \
  "after a failed dump, certificate does not record a class list again"

: >"$WORK/not-a-directory"
stub_run unwritable "$WORK/not-a-directory/cds" certificate app a.crt a.key
expect_status unwritable 0 "certificate runs when the cache directory cannot be created"
expect_calls unwritable 'SharedArchiveFile|DumpLoadedClassList' 0 \
  "a cache directory that cannot be created gives no class-data options"

chmod 770 "$CACHE"
stub_run group-writable "$CACHE" version
expect_calls group-writable 'SharedArchiveFile' 0 \
  "an archive in a directory that its group may write is not used"
chmod 700 "$CACHE"

if (($(id -u) == 0)); then
  chown nobody "$archive"
  stub_run foreign-archive "$CACHE" version
  expect_calls foreign-archive 'SharedArchiveFile' 0 "an archive of another user is not used"
  chown root "$archive"
  chown nobody "$CACHE"
  stub_run foreign-directory "$CACHE" version
  expect_calls foreign-directory 'SharedArchiveFile' 0 \
    "an archive in another user's directory is not used"
  chown root "$CACHE"
else
  echo "NOTE: not root, so the checks on other users' files are skipped"
fi

# --- Real JDK --------------------------------------------------------------------------------

# The build removes the jar signatures, because class-data sharing skips the classes of signed
# jars. No jar may contain a signature file or signature block in META-INF.
LIB_DIR=$(dirname "$IIDCA_BIN")/../lib
signed_jars=
for jar in "$LIB_DIR"/*.jar; do
  if unzip -Z1 "$jar" | grep -qiE '^META-INF/[^/]+\.(SF|RSA|DSA|EC)$'; then
    signed_jars+=" $(basename "$jar")"
  fi
done
expect_equal "$signed_jars" "" "no jar of the distribution's lib is signed"
expect_equal "$(unzip -p "$LIB_DIR"/bcprov-jdk18on-*.jar META-INF/MANIFEST.MF |
  grep -ci '^Multi-Release: true')" 1 "Bouncy Castle's unsigned jar is still multi-release"

export IIDCA_PATH=$WORK/ca
head -c 24 /dev/urandom | base64 >"$WORK/pw"
CA_PORT=$(pick_free_port)
EMULATOR_PORT=$(pick_free_port)
start_emulator "" "127.0.0.1:$EMULATOR_PORT" "$WORK/aws.pem" "$CAPTURE_DIR/emulator.log" ||
  abort_test "the AWS metadata emulator listens on 127.0.0.1:$EMULATOR_PORT"
# The same instance enrolls twice, so trust on first use is off.
start_ca_with_provisioner "" "$CA_PORT" "AWS IID Provisioner" --type AWS \
  --aws-account "${AWS_ACCOUNT:-123456789042}" --aws-certificates "$WORK/aws.pem" \
  --disable-trust-on-first-use
# serve responds to GET /health only after it has decrypted its password-protected intermediate
# key with Bouncy Castle's cipher, which now comes from an unsigned jar. Otherwise
# start_ca_with_provisioner aborts the test.
pass "serve started from the unsigned jars, so it decrypted its password-protected key"
if grep -q 'registered Amazon Corretto Crypto Provider' "$CAPTURE_DIR/serve.log"; then
  pass "serve registered ACCP from its unsigned jar"
else
  fail "serve registered ACCP from its unsigned jar: no such line in serve.log"
fi

REAL_CACHE=$WORK/real/cds
enroll() {
  local name=$1
  run_captured "$name" "" env IIDCA_CDS_DIR="$REAL_CACHE" \
    AWS_EC2_METADATA_SERVICE_ENDPOINT="$EMULATOR_URL" "$IIDCA_BIN" certificate app.internal \
    "$WORK/app.crt" "$WORK/app.key" --provisioner "AWS IID Provisioner" --force
  expect_status "$name" 0 "iidca certificate ($name)"
}

enroll first-enrollment
deadline=$((SECONDS + DUMP_TIMEOUT))
while ((SECONDS < deadline)) && ! compgen -G "$REAL_CACHE/*.jsa" >/dev/null &&
  ! compgen -G "$REAL_CACHE/*.failed" >/dev/null; do
  sleep 0.5
done
real_archive=$(find "$REAL_CACHE" -name 'iidca-*.jsa' 2>/dev/null)
if [[ -z $real_archive ]]; then
  find "$REAL_CACHE" -name '*.failed' -exec sed 's/^/  | /' {} + 2>/dev/null || true
  abort_test "the first iidca certificate writes an archive within ${DUMP_TIMEOUT}s"
fi
pass "the first iidca certificate writes an archive"

# The real JVM starts with a collector chosen in the environment: it exits with "Multiple
# garbage collectors selected" when the launcher adds its own as well.
for command in version serve; do
  for variable in JAVA_OPTS JDK_JAVA_OPTIONS JAVA_TOOL_OPTIONS; do
    run_captured "g1-$command-$variable" "" env IIDCA_CDS=off "$variable=-XX:+UseG1GC" \
      "$IIDCA_BIN" "$command" --help
    expect_status "g1-$command-$variable" 0 "iidca $command with $variable=-XX:+UseG1GC"
  done
done

run_captured map-archive "" java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
  -XX:SharedArchiveFile="$real_archive" -Xshare:on \
  -cp "$(dirname "$IIDCA_BIN")/../lib/*" io.iidca.cli.Main version
expect_status map-archive 0 "the JVM maps the archive with -Xshare:on"

# The same enrollment on the JVM directly, to see where its classes come from.
run_captured shared-classes "" env AWS_EC2_METADATA_SERVICE_ENDPOINT="$EMULATOR_URL" \
  java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:SharedArchiveFile="$real_archive" \
  -Xshare:on -Xlog:class+load:file="$WORK/class-load.log" -cp "$LIB_DIR/*" io.iidca.cli.Main \
  certificate app.internal "$WORK/app.crt" "$WORK/app.key" --provisioner "AWS IID Provisioner" \
  --force
expect_status shared-classes 0 "iidca certificate with -Xshare:on and a class-load log"
shared_primitive='^\[.*\] org\.bouncycastle\.asn1\.ASN1Primitive source: shared objects file'
expect_equal "$(grep -cE "$shared_primitive" "$WORK/class-load.log")" 1 \
  "the archive holds Bouncy Castle's classes"
if grep -qE '[$][$]Lambda[$].* source: shared objects file' "$WORK/class-load.log"; then
  pass "the archive holds lambda proxy classes"
else
  fail "the archive holds lambda proxy classes: none loaded from it"
fi

enroll second-enrollment
expect_equal "$(list_directory "$REAL_CACHE")" "$(basename "$real_archive")" \
  "the enrollment with the archive records no class list"
expect_equal "$(openssl x509 -in "$WORK/app.crt" -noout -subject -nameopt RFC2253)" \
  "subject=CN=app.internal" "the certificate of the enrollment with the archive names app.internal"

finish_test
