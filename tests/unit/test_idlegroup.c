/* test_idlegroup.c — the records writer's cpu cgroup (src/base/idlegroup.c)
 * on this machine's real cgroup file system: made beside this process's
 * own cpu cgroup, cpu.idle set and cleared, a thread moved into it, a
 * group left by a process that is gone removed, its own removed at the
 * end.  Needs root and cgroup v1's cpu controller; elsewhere the whole
 * test is a SKIP, said so (hearthd then keeps SCHED_IDLE alone). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "idlegroup.h"
#include "tap.h"

static struct idlegroup *g;
static char cg_line[PATH_MAX];

static int read_line(const char *path, char *dst, size_t size)
{
	FILE *f = fopen(path, "re");
	int r = -1;

	if (f && fgets(dst, (int)size, f)) {
		dst[strcspn(dst, "\n")] = '\0';
		r = 0;
	}
	if (f)
		fclose(f);
	return r;
}

/* A thread that joins the group, then reads its own cpu cgroup line. */
static void *member(void *arg)
{
	char path[64], line[PATH_MAX];
	FILE *f;

	(void)arg;
	if (idlegroup_join(g, gettid(), NULL) < 0)
		return NULL;
	snprintf(path, sizeof(path), "/proc/self/task/%ld/cgroup", (long)gettid());
	if ((f = fopen(path, "re")) != NULL) {
		while (fgets(line, sizeof(line), f))
			if (strstr(line, ":cpu:") || strstr(line, ":cpu,") || strstr(line, ",cpu:"))
				snprintf(cg_line, sizeof(cg_line), "%s", line);
		fclose(f);
	}
	return NULL;
}

int main(void)
{
	struct hearth_error *err = NULL;
	char dir[PATH_MAX], val[16], want[64], stale[PATH_MAX], idle_path[PATH_MAX + 16];
	const char *base;
	struct stat st;
	pthread_t t;

	if (geteuid() != 0 || access("/sys/fs/cgroup/cpu/cpu.shares", F_OK) != 0) {
		printf("1..0 # SKIP needs root and cgroup v1's cpu controller "
		       "(/sys/fs/cgroup/cpu)\n");
		return 0;
	}
	/* a group left by a process that is gone: removed by the next one */
	snprintf(stale, sizeof(stale), "/sys/fs/cgroup/cpu/hearthd-idle-%d", INT_MAX - 7);
	if (mkdir(stale, 0755) < 0 && errno != EEXIST)
		stale[0] = '\0';

	ok(idlegroup_new(&g, &err) == 0, "a group is made (%s)", err ? err->msg : "ok");
	hearth_error_free(err);
	if (!g)
		return tap_done();
	snprintf(dir, sizeof(dir), "%s", idlegroup_path(g));
	base = strrchr(dir, '/');
	ok(stat(dir, &st) == 0 && S_ISDIR(st.st_mode), "it is a directory: %s", dir);
	snprintf(want, sizeof(want), "hearthd-idle-%ld", (long)getpid());
	is_str(base ? base + 1 : "", want, "named after this process");
	if (stale[0])
		ok(access(stale, F_OK) != 0, "the group of a process that is gone was removed");

	snprintf(idle_path, sizeof(idle_path), "%s/cpu.idle", dir);
	ok(read_line(idle_path, val, sizeof(val)) == 0 && strcmp(val, "0") == 0,
	   "made not idle (cpu.idle %s)", val);
	ok(idlegroup_set_idle(g, true) == 0 && read_line(idle_path, val, sizeof(val)) == 0 &&
		   strcmp(val, "1") == 0,
	   "set idle: cpu.idle 1");
	ok(idlegroup_set_idle(g, false) == 0 && read_line(idle_path, val, sizeof(val)) == 0 &&
		   strcmp(val, "0") == 0,
	   "and back: cpu.idle 0");

	cg_line[0] = '\0';
	ok(pthread_create(&t, NULL, member, NULL) == 0, "a thread started");
	pthread_join(t, NULL);
	ok(base && strstr(cg_line, base), "the thread moved into the group (%s)",
	   cg_line[0] ? strtok(cg_line, "\n") : "no cpu line");
	ok(idlegroup_join(g, 999999999, NULL) < 0, "a thread that does not exist cannot join");

	idlegroup_free(g);
	ok(access(dir, F_OK) != 0, "freed once its thread is gone: the group is removed");
	if (stale[0])
		rmdir(stale);
	return tap_done();
}
