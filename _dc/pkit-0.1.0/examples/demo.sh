# SPDX-License-Identifier: ISC
# demo.sh: sourced by every lesson script in this directory.
#   heading TEXT   print the lesson's one-line heading
#   nap SECONDS    sleep SECONDS times $PKIT_DEMO_DELAY (default 1; 0 = none),
#                  for the tutorial's simulated work and network delays
# shellcheck shell=sh

heading() {
	printf '## %s\n' "$*"
}

nap() {
	_t=$(awk -v s="$1" -v f="${PKIT_DEMO_DELAY:-1}" 'BEGIN { print s * f }')
	sleep "$_t"
}
