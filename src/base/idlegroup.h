/* idlegroup.h — a cpu cgroup of hearthd's own, for a thread that must give
 * way to every other one on the machine (the records writer).
 *
 * SCHED_IDLE alone is not that.  The kernel weighs task groups before
 * threads: a runtime in its container's cgroup that wakes onto the CPU
 * where an idle thread of hearthd runs is weighed against hearthd's group
 * (its cgroup, or its session's autogroup), not against the thread, and
 * waits out that group's slice, up to milliseconds.  And the kernel placed
 * it there because a CPU that runs only SCHED_IDLE threads counts as idle.
 * A cgroup with cpu.idle set (Linux 5.15) is idle as a group: whatever
 * wakes onto its CPU takes the CPU at once (bench/RESULTS.md, issue 12).
 *
 * The group is a child of hearthd's own cpu cgroup, named
 * hearthd-idle-PID, made by idlegroup_new and removed by idlegroup_free
 * once no thread is left in it.  A group left behind by a hearthd that was
 * killed is removed by the next one (its PID is gone).  Needs cgroup v1's
 * cpu controller, writable (root); elsewhere (cgroup v2, whose threaded
 * mode this does not do; no permission; an older kernel) idlegroup_new
 * fails and the thread stays in hearthd's group. */
#ifndef HEARTH_IDLEGROUP_H
#define HEARTH_IDLEGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

struct idlegroup;

/* A new group, not idle yet (idlegroup_set_idle). */
int idlegroup_new(struct idlegroup **out, struct hearth_error **err);
/* Moves thread tid (gettid) into the group. */
int idlegroup_join(struct idlegroup *g, pid_t tid, struct hearth_error **err);
/* The group idle or not (cpu.idle); any thread may call it. */
int idlegroup_set_idle(struct idlegroup *g, bool idle);
/* Where the group is, for the log. */
const char *idlegroup_path(const struct idlegroup *g);
/* Removes the group (its threads must have exited or left); NULL is fine. */
void idlegroup_free(struct idlegroup *g);

#endif
