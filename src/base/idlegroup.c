/* idlegroup.c — see idlegroup.h. */
#include "idlegroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define IDLEGROUP_CPU_MOUNT "/sys/fs/cgroup/cpu" /* cgroup v1's cpu controller */
#define IDLEGROUP_PREFIX "hearthd-idle-"

struct idlegroup {
	char dir[PATH_MAX];
	int idle_fd; /* the group's cpu.idle, open for writing */
};

/* hearthd's own cgroup in the cpu hierarchy, from /proc/self/cgroup
 * ("ID:cpu,cpuacct:/path"): 0, or -ENOENT when no v1 hierarchy has the
 * cpu controller (cgroup v2's single line is "0::/path"). */
static int own_cpu_path(char *dst, size_t size)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[PATH_MAX + 64];
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (r < 0 && fgets(line, sizeof(line), f)) {
		char *ctl = strchr(line, ':'), *path = ctl ? strchr(ctl + 1, ':') : NULL, *tok,
		     *save;

		if (!path)
			continue;
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		for (tok = strtok_r(ctl + 1, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (strcmp(tok, "cpu") == 0 && strlen(path) < size) {
				memcpy(dst, path, strlen(path) + 1);
				r = 0;
			}
	}
	fclose(f);
	return r;
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	int fd, r = 0;
	size_t n = strlen(text);

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (write(fd, text, n) != (ssize_t)n)
		r = -errno;
	close(fd);
	return r;
}

/* Groups of hearthds that are gone (killed: they could not remove their
 * own), beside the new one; one still holding a thread stays. */
static void sweep(const char *parent)
{
	DIR *d = opendir(parent);
	struct dirent *e;
	char path[PATH_MAX];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long pid;

		if (strncmp(e->d_name, IDLEGROUP_PREFIX, strlen(IDLEGROUP_PREFIX)) != 0)
			continue;
		pid = strtol(e->d_name + strlen(IDLEGROUP_PREFIX), &end, 10);
		if (*end || pid <= 0 || pid == getpid() || kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", parent, e->d_name) <
			    sizeof(path) &&
		    rmdir(path) == 0)
			log_debug("idlegroup: removed %s, left by a hearthd that is gone", path);
	}
	closedir(d);
}

int idlegroup_new(struct idlegroup **out, struct hearth_error **err)
{
	char own[PATH_MAX], parent[PATH_MAX], path[PATH_MAX];
	struct idlegroup *g;
	int r;

	*out = NULL;
	if ((r = own_cpu_path(own, sizeof(own))) < 0)
		return hearth_error_make(err, -r,
					 "no cgroup v1 cpu hierarchy (/proc/self/cgroup): %s",
					 strerror(-r));
	if ((size_t)snprintf(parent, sizeof(parent), "%s%s", IDLEGROUP_CPU_MOUNT,
			     strcmp(own, "/") == 0 ? "" : own) >= sizeof(parent))
		return hearth_error_make(err, ENAMETOOLONG, "cgroup path too long");
	if (!(g = calloc(1, sizeof(*g))))
		return hearth_error_make(err, ENOMEM, "out of memory");
	g->idle_fd = -1;
	if ((size_t)snprintf(g->dir, sizeof(g->dir), "%s/%s%ld", parent, IDLEGROUP_PREFIX,
			     (long)getpid()) >= sizeof(g->dir)) {
		free(g);
		return hearth_error_make(err, ENAMETOOLONG, "cgroup path too long");
	}
	sweep(parent);
	if (mkdir(g->dir, 0755) < 0 && errno != EEXIST) {
		r = errno;
		free(g);
		return hearth_error_make(err, r, "cannot make cgroup %s/%s%ld: %s", parent,
					 IDLEGROUP_PREFIX, (long)getpid(), strerror(r));
	}
	errno = ENAMETOOLONG;
	if ((size_t)snprintf(path, sizeof(path), "%s/cpu.idle", g->dir) >= sizeof(path) ||
	    (g->idle_fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 ||
	    idlegroup_set_idle(g, false) < 0) {
		r = errno ? errno : EIO;
		idlegroup_free(g);
		return hearth_error_make(err, r, "cannot set %s (cpu.idle needs Linux 5.15): %s",
					 path, strerror(r));
	}
	*out = g;
	return 0;
}

int idlegroup_join(struct idlegroup *g, pid_t tid, struct hearth_error **err)
{
	char text[24];
	int r;

	snprintf(text, sizeof(text), "%ld\n", (long)tid);
	if ((r = write_file(g->dir, "tasks", text)) < 0)
		return hearth_error_make(err, -r, "cannot move thread %ld into %s: %s", (long)tid,
					 g->dir, strerror(-r));
	return 0;
}

int idlegroup_set_idle(struct idlegroup *g, bool idle)
{
	if (!g || g->idle_fd < 0)
		return -EINVAL;
	/* a control file: each write is one value, whatever the offset */
	return pwrite(g->idle_fd, idle ? "1" : "0", 1, 0) == 1 ? 0 : -errno;
}

const char *idlegroup_path(const struct idlegroup *g)
{
	return g ? g->dir : "";
}

void idlegroup_free(struct idlegroup *g)
{
	if (!g)
		return;
	if (g->idle_fd >= 0)
		close(g->idle_fd);
	if (rmdir(g->dir) < 0 && errno != ENOENT)
		log_warn("idlegroup: cannot remove %s: %s", g->dir, strerror(errno));
	free(g);
}
