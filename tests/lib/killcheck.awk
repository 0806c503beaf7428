# SPDX-License-Identifier: ISC
# killcheck.awk: a static check that no C code can call kill() with a pid
# <= 1 (kill(-1, sig) signals every process of the user; kill(0, sig) the
# whole process group).  Each kill(PID, ...) call must be preceded, in the
# same function, by a guard on that very PID expression: "PID > 1" or
# "PID <= 1".  A process group, kill(-PGID, ...), needs the same guard
# on PGID (a group id <= 1 is never one we made).  killpg() and
# syscall(SYS_kill...) are refused outright
# (pidfd_send_signal needs no guard: a pidfd names one process).
# Prints each offence as FILE:LINE: why, and exits 1 if there was any.
#
#	awk -f killcheck.awk FILE.c...

function report(why) {
	printf "%s:%d: %s\n", FILENAME, FNR, why
	bad = 1
}

function quote(s) {
	gsub(/[][\\.^$*+?(){}|]/, "\\\\&", s)
	return s
}

FNR == 1 { body = "" }
/^[{]/ { body = "" }

{
	line = $0
	sub(/\/\/.*/, "", line)
	if (line ~ /^[ \t]*\*/ || line ~ /^[ \t]*\/\*/)
		next
	if (line ~ /(^|[^A-Za-z0-9_])killpg[ \t]*\(/)
		report("killpg() is not allowed")
	if (line ~ /SYS_kill|SYS_tgkill|SYS_tkill/)
		report("raw kill syscall is not allowed")
	rest = line
	before = ""
	while (match(rest, /(^|[^A-Za-z0-9_])kill[ \t]*\(/)) {
		# a guard earlier on the same line counts: "p > 1 && kill(p..."
		before = before substr(rest, 1, RSTART)
		rest = substr(rest, RSTART + RLENGTH)
		arg = rest
		sub(/,.*/, "", arg)
		gsub(/^[ \t]+|[ \t]+$/, "", arg)
		if (arg ~ /^-[A-Za-z_]/)
			arg = substr(arg, 2)	# a group: guard its id
		if (arg ~ /^-/ || arg ~ /^[0-9]+$/)
			report("kill(" arg ", ...): a literal pid")
		else if ((body "\n" before) !~ "(^|[^A-Za-z0-9_>.])" quote(arg) "[ \t]*(>[ \t]*1|<=[ \t]*1)([^0-9]|$)")
			report("kill(" arg ", ...) without a guard '" arg " > 1' before it in this function")
	}
	body = body "\n" line
}

END { exit bad }
