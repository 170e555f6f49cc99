#!/bin/sh
# fuzz_regress.sh - replay every fuzz corpus and regression input
#
# Builds each fuzz target with fuzz/driver.c instead of libFuzzer (with
# AddressSanitizer and UndefinedBehaviorSanitizer) and runs it on every
# file of fuzz/regress/TARGET and fuzz/corpus/TARGET: inputs that once
# crashed a parser must not crash it again.  Skips (77) without a
# compiler that has the sanitizers.

srcdir=${srcdir:-.}
builddir=${builddir:-.}
export srcdir builddir
exec ${SHELL:-/bin/sh} "$srcdir/fuzz/run" --regress
