/* SPDX-License-Identifier: ISC */
/*
 * fault.h: fault injection for the crash tests.
 *
 * FAULT("name") marks a point where a real process could be killed (after
 * taking the queue lock, halfway through a copy, between a write and its
 * commit...).  In a build configured with --enable-fault-injection, the
 * environment variable PKIT_FAULT=name:#N makes the N-th pass through that
 * point in this process raise SIGKILL, and PKIT_FAULT=name:P (0 < P <= 1)
 * does so with probability P on every pass; several specs may be given,
 * separated by commas.  In a normal build FAULT() compiles to nothing.
 */
#ifndef PKIT_FAULT_H
#define PKIT_FAULT_H

#ifdef PKIT_FAULTS
void	fault_point(const char *name);
#define FAULT(name)	fault_point(name)
#else
#define FAULT(name)	((void)0)
#endif

#endif
