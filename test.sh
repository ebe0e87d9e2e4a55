#!/usr/bin/env bash
# test.sh — the same set-up as run.sh, then the whole suite:
#   1. a normal build: `make check` (unit, shim and API tests: no Docker),
#      `make check-docker` (the Docker backend, the shim in containers
#      and execution, against a real dockerd and the real images),
#      `make check-browser` (the dashboard in headless chromium) and
#      `make check-faults` (a minute of load, kill -9 under load, dockerd
#      stopped and started, a full disk, SIGSTOP mid-call)
#   2. an ASan/UBSan build: check and check-docker again, and the load
#      suite for 20 s
#   3. hearthd under valgrind through the API and basic execution suites,
#      and the load suite for 15 s (in the normal pass's build tree)
#   4. `make lint` (every tracked C file as .clang-format has it)
#   5. `make web-check` (web/dist is what web/src builds, within budget)
#   6. `make distcheck` (the tarball builds, installs and passes make check),
#      in the background while 7 runs
#   7. the libFuzzer harnesses (fuzz/README.md), each for FUZZ_SECONDS
#      (default 10) in a clang build of their own: one point per harness
#   8. its duration, with a warning past TEST_BUDGET_S (30 minutes)
# Passes 1-3 each have one point more: their build (test programs too)
# printed no compiler warning.
# It ends with how long it took and one line "N passed, N failed" counted
# over every TAP test point of every pass; the exit status is 0 only when
# nothing failed.
set -uo pipefail
T_START=$(date +%s)
TEST_BUDGET_S=${TEST_BUDGET_S:-1800}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

./run.sh --setup-only || { echo "test.sh: set-up failed"; echo "0 passed, 1 failed"; exit 1; }
# The browser suite drives Debian's chromium with playwright-core (from npm).
browser_pkgs=()
[[ -x /usr/bin/chromium ]] || browser_pkgs+=(chromium)
command -v npm >/dev/null || browser_pkgs+=(npm)
if ((${#browser_pkgs[@]})); then
	say "installing ${browser_pkgs[*]} (the browser tests)"
	SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${browser_pkgs[@]}" >/dev/null ||
		say "could not install ${browser_pkgs[*]}: the browser suite will fail"
fi

# What the Lambda API's SDK suites run: Debian's boto3 and AWS CLI, and the
# AWS SDK for JavaScript from npm as tests/lambda/package-lock.json pins it.
setup_lambda_sdks() {
	local missing=() p sudo=""
	[[ $(id -u) -ne 0 ]] && sudo=sudo
	for p in python3-boto3 awscli; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	# nodejs packages that bundle npm (NodeSource's) must not get Debian's.
	command -v npm >/dev/null || missing+=(npm)
	if ((${#missing[@]})); then
		say "installing ${missing[*]}"
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
			$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				--no-install-recommends "${missing[@]}" >/dev/null || return 1
	fi
	if [[ ! -f tests/lambda/node_modules/.package-lock.json ||
		tests/lambda/package-lock.json -nt tests/lambda/node_modules/.package-lock.json ]]; then
		say "npm ci in tests/lambda"
		(cd tests/lambda && npm ci --no-audit --no-fund --loglevel=error) || return 1
	fi
}
setup_lambda_sdks || { echo "test.sh: the Lambda SDK set-up failed"; echo "0 passed, 1 failed"; exit 1; }

# The fuzzing pass builds with clang and libFuzzer (Debian: clang and
# libclang-rt-dev, which clang only recommends).
fuzz_pkgs=()
for p in clang libclang-rt-dev; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || fuzz_pkgs+=("$p")
done
if ((${#fuzz_pkgs[@]})); then
	say "installing ${fuzz_pkgs[*]} (the fuzzing pass)"
	SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${fuzz_pkgs[@]}" >/dev/null ||
		say "could not install ${fuzz_pkgs[*]}: the fuzzing pass will fail"
fi

passed=0
failed=0
skipped=0
# Adds up automake's .trs files: one ":test-result:" line per TAP point.
count() {
	local dir="$1" p f
	p=$(find "$dir" -name '*.trs' -exec cat {} + 2>/dev/null | grep -cE '^:test-result: (PASS|XFAIL)' || true)
	f=$(find "$dir" -name '*.trs' -exec cat {} + 2>/dev/null | grep -cE '^:test-result: (FAIL|XPASS|ERROR)' || true)
	# A test script that died before printing its plan leaves no FAIL point
	# of its own: count its ERROR/FAIL global result too.
	local g
	g=$(find "$dir" -name '*.trs' -exec grep -l '^:global-test-result: \(FAIL\|ERROR\)' {} + 2>/dev/null | wc -l)
	if ((g > 0 && f == 0)); then f=$g; fi
	# A make that failed with no failing test behind it (a recipe that
	# did not run, a build error) is a failure too, never silence.
	if ((${3:-0} > 0 && f == 0)); then
		f=$3
		say "$2: make failed $3 time(s) with no failing test; see the output above"
	fi
	local s
	s=$(find "$dir" -name '*.trs' -exec cat {} + 2>/dev/null | grep -cE '^:test-result: SKIP' || true)
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	say "$2: $p passed, $f failed, $s skipped (not counted as passed)"
}

run_pass() {
	local name="$1" dir="$2" t0=$SECONDS; shift 2
	say "pass: $name (in $dir)"
	mkdir -p "$dir"
	find "$dir" -name '*.trs' -delete 2>/dev/null || true
	if [[ ! -f "$dir/Makefile" ]]; then
		(cd "$dir" && "$here/configure" -q "$@") || { failed=$((failed + 1)); return; }
	fi
	# The build, test programs included (make check with no TESTS builds
	# them and runs nothing): one point, no compiler warnings in what it
	# compiled (a fresh tree compiles everything; a rerun only what changed).
	local wlog="$dir/build-warnings.log"
	if ! { make -C "$dir" -j2 -s >/dev/null && make -C "$dir" -j2 -s check TESTS= >/dev/null; } \
		2>"$wlog"; then
		cat "$wlog" >&2
		failed=$((failed + 1)); say "$name: build failed"; return
	fi
	if grep -q 'warning:' "$wlog"; then
		grep -B1 -A3 'warning:' "$wlog" >&2
		failed=$((failed + 1))
		say "$name: FAILED, $(grep -c 'warning:' "$wlog") compiler warning(s) ($wlog)"
	else
		passed=$((passed + 1))
	fi
	local broken=0
	# The tests without Docker two at a time (each starts its own hearthd
	# on a free port in a directory of its own; 2 cores: more gains
	# nothing), the Docker suites one at a time (timing-bound checks).
	make -C "$dir" -j2 check "${check_args[@]}" || broken=$((broken + 1))
	make -C "$dir" -j1 check-docker "${docker_args[@]}" || broken=$((broken + 1))
	# the dashboard in chromium: once, in the normal pass
	if [[ $name == normal ]]; then make -C "$dir" -j1 check-browser || broken=$((broken + 1)); fi
	# the load and fault suites: all of them in the normal pass, the load
	# alone (shorter) in the others
	make -C "$dir" -j1 check-faults "${faults_args[@]}" || broken=$((broken + 1))
	count "$dir" "$name" "$broken"
	say "$name: $((SECONDS - t0)) s; the slowest scripts: $(slowest "$dir")"
}

# A pass's five slowest test scripts, in seconds: each one's .log from
# its birth to its .trs (file systems without birth times list nothing).
slowest() {
	local log b e
	find "$1/tests" -name '*.trs' 2>/dev/null | while read -r t; do
		log="${t%.trs}.log"
		if b=$(stat -c %W "$log" 2>/dev/null) && e=$(stat -c %Y "$t") && ((b > 0)); then
			t="${t%.trs}"
			echo "$((e - b)) ${t#"$1"/}"
		fi
	done | sort -rn | head -5 | awk '{printf "%s%s %s s", (NR > 1 ? ", " : ""), $2, $1}'
}

check_args=()
docker_args=()
faults_args=()
run_pass normal "$here/build"
# ASan and UBSan under load: 20 s of it (leaks and errors are judged at exit).
faults_args=(FAULT_TESTS=tests/faults/load.sh HEARTH_LOAD_SECONDS=20)
run_pass sanitizers "$here/build-asan" --enable-sanitizers
# hearthd under valgrind (memcheck, leaks) through the API suites, the
# basic execution suite, the event stream, the benchmarks, function URLs,
# the async calls' basics and bounds, and the Lambda API through the
# JavaScript SDK; the timing-bound execution suites (async fairness and
# crash recovery among them) stay on the faster passes above.
check_args=(HEARTH_VALGRIND=1 TESTS="tests/api/functions.sh tests/api/bad-input.sh
	tests/api/static.sh tests/api/durability.sh tests/api/test-events.sh tests/api/async.sh
	tests/api/lambda.sh")
# (one line: check-docker puts the list inside a shell command)
docker_args=(HEARTH_VALGRIND=1 DOCKER_TESTS="tests/integration/exec-basic.sh \
	tests/integration/events.sh tests/integration/bench-api.sh tests/integration/fnurl.sh \
	tests/integration/async-basic.sh tests/integration/async-limits.sh \
	tests/integration/lambda-sdk.sh")
faults_args=(HEARTH_VALGRIND=1 FAULT_TESTS=tests/faults/load.sh HEARTH_LOAD_SECONDS=15)
# In the normal pass's tree (the same configure): nothing to build again.
run_pass valgrind "$here/build"

say "pass: lint"
# One point: clang-format --dry-run --Werror over every tracked C file.
if make -C "$here/build" -s lint >"$here/build/lint.log" 2>&1; then
	passed=$((passed + 1)); say "lint: ok"
else
	failed=$((failed + 1)); tail -20 "$here/build/lint.log"
	say "lint: FAILED, $(grep -c 'error:' "$here/build/lint.log") places (build/lint.log; make format fixes them)"
fi

say "pass: web"
# One point: web/dist is what web/src builds (npm ci, esbuild, git diff),
# within the 250 KB gzipped budget.
if make -C "$here/build" -s web-check >"$here/build/web-check.log" 2>&1; then
	passed=$((passed + 1)); say "web: ok ($(grep 'JS+CSS' "$here/build/web-check.log"))"
else
	failed=$((failed + 1)); tail -20 "$here/build/web-check.log"; say "web: FAILED (build/web-check.log)"
fi

say "pass: distcheck (in the background, beside fuzz)"
# The tarball must build, install and pass make check (which needs no
# Docker); the Docker suites already ran above against this same tree.
# It runs while fuzz does (a fixed time on one core); it needs about four
# minutes of its own.  After web: that one rewrites web/dist, which the
# tarball takes.
distcheck_start=$SECONDS
make -C "$here/build" -j2 -s distcheck >"$here/build/distcheck.log" 2>&1 &
distcheck_pid=$!

say "pass: fuzz"
# Each harness for FUZZ_SECONDS in build-fuzz (./configure --enable-fuzzing:
# clang, ASan, UBSan, libFuzzer), from a scratch corpus seeded with the
# committed one: one point per harness that ran its time without a
# finding.  Once, not in every pass (every pass replays the corpora in
# make check).
fuzz_dir="$here/build-fuzz"
fuzz_start=$SECONDS
mkdir -p "$fuzz_dir"
if { [[ -f "$fuzz_dir/Makefile" ]] || (cd "$fuzz_dir" && "$here/configure" -q --enable-fuzzing); } &&
	make -C "$fuzz_dir" -j2 -s >"$fuzz_dir/build.log" 2>&1; then
	harnesses=$(make -C "$fuzz_dir" -s fuzz-list)
	[[ -n $harnesses ]] || { failed=$((failed + 1)); say "fuzz: no harness listed (make fuzz-list)"; }
	for h in $harnesses; do
		if make -C "$fuzz_dir" -s fuzz FUZZ_TARGETS="$h" FUZZ_SECONDS="${FUZZ_SECONDS:-10}" \
			>"$fuzz_dir/fuzz-$h.log" 2>&1; then
			passed=$((passed + 1)); say "fuzz $h: ok ($(grep -o 'DONE.*exec/s: [0-9]*' "$fuzz_dir/fuzz-$h.log" | tail -1))"
		else
			failed=$((failed + 1)); tail -30 "$fuzz_dir/fuzz-$h.log"
			say "fuzz $h: FAILED (build-fuzz/fuzz-$h.log, build-fuzz/fuzz/artifacts/)"
		fi
	done
else
	failed=$((failed + 1)); tail -20 "$fuzz_dir/build.log" 2>/dev/null
	say "fuzz: the clang build failed (build-fuzz/config.log, build-fuzz/build.log)"
fi
say "fuzz: $((SECONDS - fuzz_start)) s (build and runs)"

if wait "$distcheck_pid"; then
	passed=$((passed + 1)); say "distcheck: ok ($((SECONDS - distcheck_start)) s)"
else
	failed=$((failed + 1)); tail -40 "$here/build/distcheck.log"; say "distcheck: FAILED (build/distcheck.log)"
fi

took=$(($(date +%s) - T_START))
# The run should fit TEST_BUDGET_S (CI allows 90 minutes; the team keeps
# 30).  Said loudly when it does not, but not a failure: on a shared
# machine the time says as much about the neighbours as about the tests.
if ((took > TEST_BUDGET_S)); then
	say "time: WARNING, over the budget of $((TEST_BUDGET_S / 60)) min: look at what grew"
fi
printf 'test.sh took %dm %02ds\n' $((took / 60)) $((took % 60))
echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 && $passed -gt 0 ]]
