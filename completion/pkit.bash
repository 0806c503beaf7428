# SPDX-License-Identifier: ISC
# bash completion for pkit's tools: their options, queue names and lock
# names (from the runtime directory: queues/, locks/), and the command
# that pspawn, pdaemon, plock and worker-mode pqueue-get run.
# shellcheck shell=bash

_pkit_rundir() {
	if [ -n "${PKIT_DIR:-}" ]; then
		printf '%s\n' "$PKIT_DIR"
	elif [ -n "${XDG_RUNTIME_DIR:-}" ]; then
		printf '%s\n' "$XDG_RUNTIME_DIR/pkit"
	else
		printf '/dev/shm/pkit-%s\n' "$(id -u)"
	fi
}

_pkit_queues() {
	local f
	for f in "$(_pkit_rundir)"/queues/*; do
		[ -f "$f" ] && [ ! -L "$f" ] && [ -O "$f" ] &&
			printf '%s\n' "${f##*/}"
	done
}

_pkit_locks() {
	local f
	for f in "$(_pkit_rundir)"/locks/*; do
		[ -f "$f" ] && printf '%s\n' "${f##*/}"
	done
}

# _pkit_first_operand LETTERS: the index in COMP_WORDS of the first operand,
# LETTERS being the options that take an argument.
_pkit_first_operand() {
	local i=1 w
	while [ "$i" -lt "$COMP_CWORD" ]; do
		w=${COMP_WORDS[i]}
		case $w in
		--) echo $((i + 1)); return ;;
		-*) case $w in -[!-]*) [[ "$1" == *"${w: -1}"* ]] && i=$((i + 1)) ;; esac ;;
		*) echo "$i"; return ;;
		esac
		i=$((i + 1))
	done
	echo "$i"
}

_pkit() {
	local cmd=${COMP_WORDS[0]##*/} cur=${COMP_WORDS[COMP_CWORD]}
	local prev=${COMP_WORDS[COMP_CWORD-1]} opts args first names="" off=0
	case $cmd in
	pspawn)		opts="-D -g -n -o -e -i -C -h"; args="noeiC" ;;
	pjoin)		opts="-a -k -l -p -t -v -h"; args="t" ;;
	pdaemon)	opts="-r -p -o -C -T -k -t -s -h"; args="poCTt" ;;
	plock)		opts="-s -c -n -t -q -v -F -p -w -h"; args="ctFp"; names=locks ;;
	pqueue-create)	opts="-p -m -s -L -M -l -h"; args="msMl"; names=queues ;;
	pqueue-put)	opts="-n -t -0 -h"; args="t"; names=queues ;;
	pqueue-get)	opts="-n -t -c -f -r -0 -i -h"; args="tcr"; names=queues ;;
	pqueue-done)	opts="-c -h"; args="c"; names=queues ;;
	pqueue-join)	opts="-t -h"; args="t"; names=queues ;;
	pqueue-stat)	opts="-e -F -k -h"; args=""; names=queues ;;
	pqueue-close|pqueue-rm) opts="-h"; args=""; names=queues ;;
	*)		return ;;
	esac
	case $prev in
	-o|-e|-i|-p)	[ "$cmd$prev" != plock-p ] && [[ "$args" == *"${prev#-}"* ]] &&
			{ mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return; } ;;
	-C)		mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
	esac
	if [[ "$prev" == -? && "$args" == *"${prev#-}"* ]]; then
		return		# a number, duration or title: nothing to offer
	fi
	first=$(_pkit_first_operand "$args")
	if [ "$COMP_CWORD" -lt "$first" ] || [[ "$cur" == -* && "$COMP_CWORD" -eq "$first" ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		return
	fi
	if [ "$COMP_CWORD" -eq "$first" ] && [ -n "$names" ]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_pkit_$names)" -- "$cur")
		return
	fi
	[ -n "$names" ] && off=1
	case $cmd in
	pspawn|pdaemon|plock|pqueue-get)
		if [ "$COMP_CWORD" -eq $((first + off)) ]; then
			mapfile -t COMPREPLY < <(compgen -c -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi ;;
	pqueue-rm|pqueue-stat)
		mapfile -t COMPREPLY < <(compgen -W "$(_pkit_queues)" -- "$cur") ;;
	esac
}

complete -F _pkit pspawn pjoin pdaemon plock pqueue-create pqueue-put \
	pqueue-get pqueue-done pqueue-join pqueue-stat pqueue-close pqueue-rm
