/* Unit tests for engines/docker_spec.c: the Engine API create body that
 * every container of Hearth starts from, read as JSON without a dockerd.
 * tests/integration/test_docker.c checks the same hardening on a real
 * container; this one pins every field and every refusal. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "bounds.h"
#include "docker_spec.h"
#include "error.h"
#include "tap.h"

/* The value at a dotted path of objects ("HostConfig.Memory"), or NULL. */
static struct json_object *at(struct json_object *o, const char *path)
{
	char key[64];

	while (o && *path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		path += n + (path[n] == '.');
	}
	return o;
}

/* The value's JSON text, so arrays and objects compare as one string. */
static const char *text(struct json_object *o, const char *path)
{
	struct json_object *v = at(o, path);

	return v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE)
		 : NULL;
}

static int64_t num(struct json_object *o, const char *path)
{
	struct json_object *v = at(o, path);

	return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
}

/* The object's keys in order, comma-separated, to see that nothing else
 * (Privileged, a network, CapAdd...) slips into the body. */
static const char *keys(struct json_object *o, const char *path)
{
	static char out[512];
	struct json_object *v = path[0] ? at(o, path) : o;
	size_t len = 0;

	out[0] = '\0';
	if (!v || !json_object_is_type(v, json_type_object))
		return NULL;
	json_object_object_foreach(v, k, val) {
		(void)val;
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", len ? "," : "", k);
		if (len >= sizeof(out))
			return "(too long)";
	}
	return out;
}

/* The create body of spec, or NULL (the error printed as a diagnostic). */
static struct json_object *build(const struct backend_spec *spec)
{
	struct json_object *body = NULL;
	struct hearth_error *err = NULL;

	if (docker_spec_json(spec, &body, &err) < 0) {
		printf("#   unexpected error: %s\n", err ? err->msg : "(none)");
		hearth_error_free(err);
		return NULL;
	}
	return body;
}

#define STR_(x) #x
#define STR(x) STR_(x)

/* A field of the create body and its JSON text; a path "keys:P" stands for
 * the key list of the object at P (see keys()). */
struct field {
	const char *path, *want, *what;
};

/* One test point that spec builds, then one a field. */
static void check_fields(const struct backend_spec *spec, const char *what,
			 const struct field *fields, size_t n)
{
	struct json_object *c = build(spec);

	ok(c != NULL, "%s builds", what);
	for (size_t i = 0; c && i < n; i++) {
		const char *path = fields[i].path;
		const char *got = strncmp(path, "keys:", 5) == 0 ? keys(c, path + 5)
								 : text(c, path);

		is_str(got, fields[i].want, "%s", fields[i].what);
	}
	json_object_put(c);
}

static void test_full_spec(void)
{
	static const char *const cmd[] = { "/hearth-shim", "--socket", "/run/hearth/shim.sock",
					   NULL };
	static const char *const env[] = { "A=1", "EMPTY=", "B=x=y", NULL };
	static const struct backend_label labels[] = {
		{ "hearth.managed", "true" },
		{ "hearth.function", "7" },
		{ "hearth.revision", NULL },
	};
	static const struct field fields[] = {
		{ "keys:", "Image,User,WorkingDir,NetworkDisabled,Cmd,Env,Labels,HostConfig",
		  "the body has these keys and no others" },
		{ "Image", "\"hearth/python:latest\"", "Image" },
		{ "Cmd", "[\"/hearth-shim\",\"--socket\",\"/run/hearth/shim.sock\"]",
		  "Cmd is the argv, in order" },
		{ "Env", "[\"A=1\",\"EMPTY=\",\"B=x=y\"]", "Env as given" },
		{ "Labels",
		  "{\"hearth.managed\":\"true\",\"hearth.function\":\"7\",\"hearth.revision\":\"\"}",
		  "Labels (a NULL value is an empty string)" },
		{ "User", "\"1000:1000\"", "the user asked for" },
		{ "WorkingDir", "\"/var/task\"", "WorkingDir" },
		{ "HostConfig.Memory", "268435456", "Memory is memory_mb (256) in bytes" },
		{ "HostConfig.MemorySwap", "268435456", "MemorySwap = Memory: no swap" },
		{ "HostConfig.PidsLimit", "32", "the pids limit asked for" },
		{ "HostConfig.CpuShares", "100", "the CPU share asked for" },
		{ "HostConfig.Tmpfs", "{\"/tmp\":\"rw,nosuid,nodev,size=16m,mode=1777\"}",
		  "a 16 MB tmpfs on /tmp" },
	};
	struct backend_spec spec = {
		.image = "hearth/python:latest",
		.name = "hearth-7-1",
		.cmd = cmd,
		.env = env,
		.labels = labels,
		.n_labels = 3,
		.sock_dir = "/var/lib/hearth/run/c1",
		.code_dir = "/var/lib/hearth/code/abc",
		.user = "1000:1000",
		.workdir = "/var/task",
		.memory_mb = 256,
		.pids_limit = 32,
		.tmp_mb = 16,
		.cpu_shares = 100,
	};

	check_fields(&spec, "a spec with every field set", fields,
		     sizeof(fields) / sizeof(fields[0]));
}

/* What every container gets when the spec asks for nothing more. */
static void test_hardening(void)
{
	static const struct field fields[] = {
		{ "keys:", "Image,User,NetworkDisabled,Env,Labels,HostConfig",
		  "no Cmd (the image's) and no WorkingDir unless asked" },
		{ "Env", "[]", "Env is empty" },
		{ "Labels", "{}", "Labels are empty" },
		{ "keys:HostConfig",
		  "NetworkMode,ReadonlyRootfs,IpcMode,CapDrop,SecurityOpt,Memory,MemorySwap,"
		  "PidsLimit,CpuShares,Tmpfs,Mounts",
		  "HostConfig has these keys and no others (no Privileged, no CapAdd, no ports)" },
		{ "NetworkDisabled", "true", "hardened: NetworkDisabled" },
		{ "HostConfig.NetworkMode", "\"none\"", "hardened: network none" },
		{ "HostConfig.ReadonlyRootfs", "true", "hardened: read-only root" },
		{ "HostConfig.IpcMode", "\"private\"", "hardened: private IPC" },
		{ "HostConfig.CapDrop", "[\"ALL\"]", "hardened: every capability dropped" },
		{ "HostConfig.SecurityOpt", "[\"no-new-privileges\"]",
		  "hardened: no-new-privileges" },
		{ "User", "\"" RUNTIME_USER "\"",
		  "hardened: runs as RUNTIME_USER (" RUNTIME_USER ") by default" },
		{ "HostConfig.Memory", "134217728", "Memory is 128 MB" },
		{ "HostConfig.MemorySwap", "134217728", "MemorySwap == Memory: no swap" },
		{ "HostConfig.PidsLimit", STR(RUNTIME_PIDS_MAX),
		  "PidsLimit defaults to RUNTIME_PIDS_MAX (" STR(RUNTIME_PIDS_MAX) ")" },
		{ "HostConfig.CpuShares", "128", "CpuShares default to the memory in MB" },
		{ "HostConfig.Tmpfs./tmp",
		  "\"rw,nosuid,nodev,size=" STR(RUNTIME_TMP_MB) "m,mode=1777\"",
		  "a tmpfs /tmp of RUNTIME_TMP_MB (" STR(
			  RUNTIME_TMP_MB) " MB), nosuid, nodev, sticky" },
		{ "HostConfig.Mounts", "[]", "no bind mounts without folders" },
	};
	struct backend_spec spec = { .image = "hearth/node:0.1.0", .memory_mb = 128 };

	check_fields(&spec, "a minimal spec (image and memory)", fields,
		     sizeof(fields) / sizeof(fields[0]));
	ok(strncmp(RUNTIME_USER, "0:", 2) != 0 && strcmp(RUNTIME_USER, "0") != 0,
	   "and RUNTIME_USER is not root");
}

/* CpuShares follow memory (1024 MB = Docker's default share of 1024) and
 * stay within Docker's bounds. */
static void test_cpu_shares(void)
{
	static const struct {
		unsigned memory_mb, cpu_shares;
		int64_t want;
		const char *what;
	} cases[] = {
		{ 64, 0, 64, "64 MB: 64 shares" },
		{ 1024, 0, 1024, "1024 MB: one default share (1024)" },
		{ 10240, 0, 10240, "10240 MB: ten default shares" },
		{ DOCKER_SPEC_MEMORY_MIN_MB, 0, DOCKER_SPEC_MEMORY_MIN_MB, "the smallest memory" },
		{ DOCKER_SPEC_MEMORY_MAX_MB, 0, 262144, "the largest memory: Docker's cap 262144" },
		{ 128, 1, 2, "an explicit share of 1: Docker's floor 2" },
		{ 128, 500000, 262144, "an explicit share over the cap: 262144" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct backend_spec spec = { .image = "hearth/python",
					     .memory_mb = cases[i].memory_mb,
					     .cpu_shares = cases[i].cpu_shares };
		struct json_object *c = build(&spec);

		is_int(num(c, "HostConfig.CpuShares"), cases[i].want, "CpuShares, %s",
		       cases[i].what);
		is_int(num(c, "HostConfig.MemorySwap"), (int64_t)cases[i].memory_mb << 20,
		       "  and MemorySwap = Memory = %u MB", cases[i].memory_mb);
		json_object_put(c);
	}
}

/* The Mounts entry of a bind of src at target, appended to out. */
static void add_mount_json(char *out, size_t size, const char *src, const char *target, bool ro)
{
	size_t len = strlen(out);

	snprintf(out + len, size - len,
		 "%s{\"Type\":\"bind\",\"Source\":\"%s\",\"Target\":\"%s\",\"ReadOnly\":%s}",
		 len > 1 ? "," : "", src, target, ro ? "true" : "false");
}

/* The socket folder read-write, the code read-only, each only when given. */
static void test_mounts(void)
{
	static const struct {
		const char *sock_dir, *code_dir, *what;
	} cases[] = {
		{ "/data/run/c1", "/data/code/abc",
		  "the socket folder read-write at " BACKEND_SOCK_DIR_TARGET
		  ", the code read-only at " BACKEND_CODE_DIR_TARGET },
		{ NULL, "/data/code/abc", "the code folder alone" },
		{ "/data/run/c2", NULL, "the socket folder alone" },
		{ NULL, NULL, "neither" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct backend_spec spec = { .image = "hearth/python",
					     .memory_mb = 128,
					     .sock_dir = cases[i].sock_dir,
					     .code_dir = cases[i].code_dir };
		struct json_object *c = build(&spec);
		char want[512] = "[";

		if (spec.sock_dir)
			add_mount_json(want, sizeof(want), spec.sock_dir, BACKEND_SOCK_DIR_TARGET,
				       false);
		if (spec.code_dir)
			add_mount_json(want, sizeof(want), spec.code_dir, BACKEND_CODE_DIR_TARGET,
				       true);
		strcat(want, "]");
		is_str(text(c, "HostConfig.Mounts"), want, "bind mounts: %s", cases[i].what);
		json_object_put(c);
	}
}

/* Each bad spec: -EINVAL, an EINVAL error naming the problem, and no body. */
static void test_refusals(void)
{
	static const char *const bad_env[] = { "A=1", "NOEQUALS", NULL };
	static const char *const bad_env2[] = { "=value", NULL };
	static const struct backend_label empty_key[] = { { "a", "1" }, { "", "x" } };
	static const struct backend_label null_key[] = { { NULL, "x" } };
	char long_image[300], long_name[140];
	const struct backend_spec ok_spec = { .image = "hearth/python", .memory_mb = 128 };
	struct {
		struct backend_spec spec;
		const char *what, *mention;
	} cases[] = {
		{ ok_spec, "no image", "invalid image name ''" },
		{ ok_spec, "an empty image", "invalid image name ''" },
		{ ok_spec, "an image with a space", "invalid image name 'hearth python'" },
		{ ok_spec, "an image with a quote", "invalid image name" },
		{ ok_spec, "an image of 256 characters", "invalid image name" },
		{ ok_spec, "a name with a slash", "invalid container name 'a/b'" },
		{ ok_spec, "an empty name", "invalid container name ''" },
		{ ok_spec, "a name of 129 characters", "invalid container name" },
		{ ok_spec, "no memory", "memory 0 MB is out of range 6..1048576" },
		{ ok_spec, "memory below Docker's 6 MB", "memory 5 MB is out of range" },
		{ ok_spec, "memory over 1 TB", "memory 1048577 MB is out of range" },
		{ ok_spec, "an env entry without '='",
		  "environment entry 'NOEQUALS' is not KEY=value" },
		{ ok_spec, "an env entry without a key", "environment entry '=value'" },
		{ ok_spec, "an empty label key", "empty label key" },
		{ ok_spec, "a NULL label key", "empty label key" },
		{ ok_spec, "a relative socket folder",
		  "bind source 'run/c1' is not an absolute path" },
		{ ok_spec, "a relative code folder", "bind source 'code' is not an absolute path" },
	};
	size_t i = 0;

	memset(long_image, 'a', sizeof(long_image));
	long_image[256] = '\0';
	memset(long_name, 'n', sizeof(long_name));
	long_name[129] = '\0';
	cases[i++].spec.image = NULL;
	cases[i++].spec.image = "";
	cases[i++].spec.image = "hearth python";
	cases[i++].spec.image = "hearth/python'";
	cases[i++].spec.image = long_image;
	cases[i++].spec.name = "a/b";
	cases[i++].spec.name = "";
	cases[i++].spec.name = long_name;
	cases[i++].spec.memory_mb = 0;
	cases[i++].spec.memory_mb = DOCKER_SPEC_MEMORY_MIN_MB - 1;
	cases[i++].spec.memory_mb = DOCKER_SPEC_MEMORY_MAX_MB + 1;
	cases[i++].spec.env = bad_env;
	cases[i++].spec.env = bad_env2;
	cases[i].spec.labels = empty_key;
	cases[i++].spec.n_labels = 2;
	cases[i].spec.labels = null_key;
	cases[i++].spec.n_labels = 1;
	cases[i++].spec.sock_dir = "run/c1";
	cases[i++].spec.code_dir = "code";
	ok(i == sizeof(cases) / sizeof(cases[0]), "every refusal case has its spec");

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *body = NULL;
		struct hearth_error *err = NULL;
		int rc = docker_spec_json(&cases[i].spec, &body, &err);

		ok(rc == -EINVAL && err && err->status == EINVAL && body == NULL &&
			   strstr(err->msg, cases[i].mention),
		   "refused: %s (%s)", cases[i].what, err ? err->msg : "no error");
		json_object_put(body);
		hearth_error_free(err);
	}
	{
		struct json_object *c = build(&ok_spec);

		ok(c != NULL, "the spec they all start from builds");
		json_object_put(c);
	}
}

static void test_checks(void)
{
	static const char *const good_images[] = { "hearth/python:latest", "busybox",
						   "registry.local:5000/team/app:1.2_3-rc",
						   "hearth/node@sha256:0123abcd" };
	char id[65], long_ref[130];
	struct hearth_error *err = NULL;

	for (size_t i = 0; i < sizeof(good_images) / sizeof(good_images[0]); i++)
		is_int(docker_spec_check_image(good_images[i], NULL), 0, "image '%s' is fine",
		       good_images[i]);
	is_int(docker_spec_check_image("a b", &err), -EINVAL, "an image with a space is not");
	ok(err && strstr(err->msg, "invalid image name 'a b'"), "  and the message says so");
	hearth_error_clear(&err);

	memset(id, 'f', 64);
	id[64] = '\0';
	is_int(docker_spec_check_ref("id", id, NULL), 0, "a 64-character container id is fine");
	is_int(docker_spec_check_ref("name", "hearth-1_2.x", NULL), 0, "a name of [A-Za-z0-9_.-]");
	memset(long_ref, 'a', sizeof(long_ref));
	long_ref[128] = '\0';
	is_int(docker_spec_check_ref("id", long_ref, NULL), 0, "128 characters are fine");
	long_ref[128] = 'a';
	long_ref[129] = '\0';
	is_int(docker_spec_check_ref("id", long_ref, NULL), -EINVAL, "129 are not");
	is_int(docker_spec_check_ref("id", NULL, NULL), -EINVAL, "nor is NULL");
	is_int(docker_spec_check_ref("id", "../images", &err), -EINVAL,
	       "nor a path climbing out of /containers/");
	ok(err && strstr(err->msg, "invalid container id '../images'"),
	   "  and the message names what it is: %s", err ? err->msg : "no error");
	hearth_error_clear(&err);
	is_int(docker_spec_check_ref("id", "a?force=1", NULL), -EINVAL, "nor a query string");
}

int main(void)
{
	test_full_spec();
	test_hardening();
	test_cpu_shares();
	test_mounts();
	test_refusals();
	test_checks();
	return tap_done();
}
