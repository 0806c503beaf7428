/* SPDX-License-Identifier: ISC */
/*
 * pkit.h: the public C API of pkit.
 *
 * Everything a program needs to use pkit's pieces directly rather than
 * through the tools: the shared exit codes, wait-status mapping, duration
 * and name parsing, and the queue (queue.h, either backend).  The tools
 * in tools/ are thin users of exactly this API.
 */
#ifndef PKIT_H
#define PKIT_H

#include "exitcode.h"
#include "dur.h"
#include "parse.h"
#include "queue.h"

#endif /* PKIT_H */
