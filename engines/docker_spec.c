/* docker_spec.c — see docker_spec.h. */
#include "docker_spec.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "bounds.h"
#include "util.h"

/* Docker's own bounds on CpuShares. */
#define DOCKER_SPEC_SHARES_MIN 2u
#define DOCKER_SPEC_SHARES_MAX 262144u

/* Path segments we put in URLs: container ids and names. */
int docker_spec_check_ref(const char *what, const char *s, struct hearth_error **err)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 128)
		return hearth_error_make(err, EINVAL, "invalid container %s '%s'", what,
					 s ? s : "");
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return hearth_error_make(err, EINVAL, "invalid container %s '%s'", what, s);
	}
	return 0;
}

int docker_spec_check_image(const char *s, struct hearth_error **err)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 255)
		return hearth_error_make(err, EINVAL, "invalid image name '%s'", s ? s : "");
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("._-/:@", c)))
			return hearth_error_make(err, EINVAL, "invalid image name '%s'", s);
	}
	return 0;
}

static int docker_spec_add_mount(struct json_object *mounts, const char *src, const char *dst,
				 bool ro, struct hearth_error **err)
{
	struct json_object *m;

	if (!src)
		return 0;
	if (src[0] != '/')
		return hearth_error_make(err, EINVAL, "bind source '%s' is not an absolute path",
					 src);
	m = json_object_new_object();
	json_object_object_add(m, "Type", json_object_new_string("bind"));
	json_object_object_add(m, "Source", json_object_new_string(src));
	json_object_object_add(m, "Target", json_object_new_string(dst));
	json_object_object_add(m, "ReadOnly", json_object_new_boolean(ro));
	json_object_array_add(mounts, m);
	return 0;
}

int docker_spec_json(const struct backend_spec *spec, struct json_object **out,
		     struct hearth_error **err)
{
	struct json_object *c = NULL, *hc, *arr, *obj;
	unsigned pids = spec->pids_limit ? spec->pids_limit : RUNTIME_PIDS_MAX;
	unsigned tmp_mb = spec->tmp_mb ? spec->tmp_mb : RUNTIME_TMP_MB;
	unsigned shares = spec->cpu_shares ? spec->cpu_shares : spec->memory_mb;
	int64_t mem;
	char tmpfs[96];
	int rc;

	rc = docker_spec_check_image(spec->image, err);
	if (rc < 0)
		return rc;
	if (spec->name && (rc = docker_spec_check_ref("name", spec->name, err)) < 0)
		return rc;
	if (spec->memory_mb < DOCKER_SPEC_MEMORY_MIN_MB ||
	    spec->memory_mb > DOCKER_SPEC_MEMORY_MAX_MB)
		return hearth_error_make(err, EINVAL, "memory %u MB is out of range %u..%u",
					 spec->memory_mb, DOCKER_SPEC_MEMORY_MIN_MB,
					 DOCKER_SPEC_MEMORY_MAX_MB);
	if (shares < DOCKER_SPEC_SHARES_MIN)
		shares = DOCKER_SPEC_SHARES_MIN;
	if (shares > DOCKER_SPEC_SHARES_MAX)
		shares = DOCKER_SPEC_SHARES_MAX;
	mem = (int64_t)spec->memory_mb << 20;
	rc = util_snprintf(tmpfs, sizeof(tmpfs), err, "rw,nosuid,nodev,size=%um,mode=1777", tmp_mb);
	if (rc < 0)
		return rc;

	c = json_object_new_object();
	if (!c)
		return hearth_error_make(err, ENOMEM, "out of memory");
	json_object_object_add(c, "Image", json_object_new_string(spec->image));
	json_object_object_add(c, "User",
			       json_object_new_string(spec->user ? spec->user : RUNTIME_USER));
	if (spec->workdir)
		json_object_object_add(c, "WorkingDir", json_object_new_string(spec->workdir));
	json_object_object_add(c, "NetworkDisabled", json_object_new_boolean(1));
	if (spec->cmd) {
		arr = json_object_new_array();
		for (size_t i = 0; spec->cmd[i]; i++)
			json_object_array_add(arr, json_object_new_string(spec->cmd[i]));
		json_object_object_add(c, "Cmd", arr);
	}
	arr = json_object_new_array();
	json_object_object_add(c, "Env", arr);
	for (size_t i = 0; spec->env && spec->env[i]; i++) {
		if (!strchr(spec->env[i], '=') || spec->env[i][0] == '=') {
			rc = hearth_error_make(err, EINVAL,
					       "environment entry '%s' is not KEY=value",
					       spec->env[i]);
			goto fail;
		}
		json_object_array_add(arr, json_object_new_string(spec->env[i]));
	}
	obj = json_object_new_object();
	json_object_object_add(c, "Labels", obj);
	for (size_t i = 0; i < spec->n_labels; i++) {
		if (!spec->labels[i].key || !spec->labels[i].key[0]) {
			rc = hearth_error_make(err, EINVAL, "empty label key");
			goto fail;
		}
		json_object_object_add(obj, spec->labels[i].key,
				       json_object_new_string(spec->labels[i].value
								      ? spec->labels[i].value
								      : ""));
	}

	hc = json_object_new_object();
	json_object_object_add(c, "HostConfig", hc);
	json_object_object_add(hc, "NetworkMode", json_object_new_string("none"));
	json_object_object_add(hc, "ReadonlyRootfs", json_object_new_boolean(1));
	json_object_object_add(hc, "IpcMode", json_object_new_string("private"));
	arr = json_object_new_array();
	json_object_array_add(arr, json_object_new_string("ALL"));
	json_object_object_add(hc, "CapDrop", arr);
	arr = json_object_new_array();
	json_object_array_add(arr, json_object_new_string("no-new-privileges"));
	json_object_object_add(hc, "SecurityOpt", arr);
	json_object_object_add(hc, "Memory", json_object_new_int64(mem));
	json_object_object_add(hc, "MemorySwap", json_object_new_int64(mem));
	json_object_object_add(hc, "PidsLimit", json_object_new_int64(pids));
	json_object_object_add(hc, "CpuShares", json_object_new_int64(shares));
	obj = json_object_new_object();
	json_object_object_add(obj, "/tmp", json_object_new_string(tmpfs));
	json_object_object_add(hc, "Tmpfs", obj);
	arr = json_object_new_array();
	json_object_object_add(hc, "Mounts", arr);
	rc = docker_spec_add_mount(arr, spec->sock_dir, BACKEND_SOCK_DIR_TARGET, false, err);
	if (rc < 0)
		goto fail;
	rc = docker_spec_add_mount(arr, spec->code_dir, BACKEND_CODE_DIR_TARGET, true, err);
	if (rc < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	json_object_put(c);
	return rc;
}
