# SPDX-License-Identifier: ISC
# joinable.bash: helpers of the worker, fault-injection and crash suites.
# shellcheck shell=bash

# fault_build: true if the tools under test were built with
# --enable-fault-injection (config.h of the build says so).
fault_build() {
	grep -q '^#define PKIT_FAULTS 1' "${top_builddir:?}/config.h" 2>/dev/null
}

# key NAME KEY: the value of KEY in pqueue-stat -k NAME.
key() {
	pqueue-stat -k "$1" | sed -n "s/^$2=//p"
}
