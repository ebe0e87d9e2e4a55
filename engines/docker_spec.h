/* docker_spec.h — what Hearth asks the Docker Engine API for, without
 * talking to it: the body of POST /containers/create built from a
 * backend_spec (backend.h), and the checks on the names that go into
 * Engine API URLs.
 *
 * Pure functions (no I/O, no event loop), kept apart from docker.c so the
 * hardening every container gets can be read and tested without a dockerd
 * (tests/unit/test_docker_spec.c). */
#ifndef HEARTH_DOCKER_SPEC_H
#define HEARTH_DOCKER_SPEC_H

#include <json-c/json.h>

#include "backend.h"
#include "error.h"

/* The memory limits Docker accepts for a container, in MB (its own floor
 * is 6 MB). */
#define DOCKER_SPEC_MEMORY_MIN_MB 6u
#define DOCKER_SPEC_MEMORY_MAX_MB 1048576u

/* The create body for spec (caller puts it); EINVAL for a spec Docker
 * would refuse or Hearth never sends: a missing or malformed image or
 * name, memory out of range, an env entry that is not KEY=value, an empty
 * label key, a bind source that is not an absolute path. */
int docker_spec_json(const struct backend_spec *spec, struct json_object **out,
		     struct hearth_error **err);

/* EINVAL unless s is a container id or name we put in a URL path: 1 to
 * 128 characters of [A-Za-z0-9_.-]; `what` names it in the message. */
int docker_spec_check_ref(const char *what, const char *s, struct hearth_error **err);
/* EINVAL unless s looks like an image reference: 1 to 255 characters of
 * [A-Za-z0-9._-/:@]. */
int docker_spec_check_image(const char *s, struct hearth_error **err);

#endif
