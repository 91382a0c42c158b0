#!/usr/bin/env bash
# Builds the model, bus, Redis and window suites and the monkey test with
# AddressSanitizer + UndefinedBehaviorSanitizer in build-sanitize/ and runs
# them. Any sanitizer report aborts its test, and fails this script.
#   EVENTDESK_MONKEY_SECONDS  the monkey's time here (default 30)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${EVENTDESK_SANITIZE_BUILD_DIR:-$root/build-sanitize}
suites=(tst_eventcodec tst_eventcatalog tst_sessionmessage tst_generationevent
        tst_sqliteeventstore tst_projector tst_retention tst_sessionserver
        tst_eventlogmodel tst_mainwindow tst_deskforms tst_notifications tst_monkey
        tst_redisappend tst_redisfaults tst_injection tst_enginemessages tst_logfilter)

generator=()
if command -v ninja >/dev/null 2>&1 && [ ! -f "$build/Makefile" ]; then generator=(-G Ninja); fi
werror=OFF
if [ "${CI:-}" = "true" ]; then werror=ON; fi
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEVENTDESK_WERROR="$werror" \
    -DEVENTDESK_SANITIZE=ON -DEVENTDESK_BUILD_TESTS=ON >/dev/null
cmake --build "$build" --parallel "${EVENTDESK_JOBS:-$(nproc)}" --target "${suites[@]}" eventdesk

# Leaks are reported too; the suppressions name only third-party libraries'
# own caches (fontconfig, glib), never EventDesk's code.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="suppressions=$root/tests/sanitizer/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export EVENTDESK_MONKEY_SECONDS=${EVENTDESK_MONKEY_SECONDS:-30}
regex="^($(IFS='|'; echo "${suites[*]}"))\$"
cd "$build"
ctest --output-on-failure --timeout 900 -j"${EVENTDESK_TEST_JOBS:-2}" -R "$regex"
