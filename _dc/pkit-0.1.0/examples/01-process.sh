#!/bin/sh
# SPDX-License-Identifier: ISC
# Lesson 1, 进程 (a process): Process(target).start(), current_process().pid,
# os.getppid().  pspawn starts a child and prints its pid; the child sees
# its own pid as $$ and its parent's (this script's) in $PKIT_PARENT.
. "$(dirname "$0")/demo.sh"
heading "1. process: pspawn starts a child and prints its pid"

echo "script: my pid is $$"
p=$(pspawn sh -c 'echo "child: my pid is $$, my parent is $PKIT_PARENT"')
echo "script: pspawn started pid $p"
pjoin "$p"
