/* status.c — what the pool shows: GET /pool (every container) and its
 * Prometheus gauges.  Read-only.  See pool_private.h. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounds.h"
#include "log.h"
#include "pool_private.h"
#include "promtext.h"
#include "util.h"

const char *pool_start_name(enum pool_start s)
{
	static const char *const n[] = { "warm", "stem", "cold" };

	return (unsigned)s < 3 ? n[s] : "cold";
}

static const char *ctr_state_name(const struct ctr *c)
{
	/* Removing is the end of draining: both are on their way out. */
	if (c->state == CTR_REMOVING || c->draining)
		return "draining";
	if (c->state < CTR_IDLE)
		return "starting";
	return c->state == CTR_IDLE ? "idle" : "busy";
}

json_object *pool_to_json(struct pool *p)
{
	json_object *arr = json_object_new_array();
	int64_t now = util_mono_ns();
	struct ctr *c;

	TAILQ_FOREACH(c, &p->ctrs, link) {
		json_object *o = json_object_new_object();
		char shortid[13] = "";

		if (c->id)
			snprintf(shortid, sizeof(shortid), "%.12s", c->id);
		json_object_object_add(o, "container", json_object_new_string(shortid));
		json_object_object_add(o, "function_id",
				       c->fn ? json_object_new_int64(c->fn->id) : NULL);
		json_object_object_add(o, "function",
				       c->fn ? json_object_new_string(c->fn->spec->name) : NULL);
		json_object_object_add(o, "revision",
				       c->fn ? json_object_new_int64(c->revision) : NULL);
		json_object_object_add(o, "language",
				       json_object_new_string(pool_lang_name(c->lang)));
		json_object_object_add(o, "stem", json_object_new_boolean(!c->fn));
		json_object_object_add(o, "bench", json_object_new_boolean(c->bench != NULL));
		json_object_object_add(o, "state", json_object_new_string(ctr_state_name(c)));
		json_object_object_add(o, "origin",
				       json_object_new_string(pool_start_name(c->origin)));
		char age[32];

		snprintf(age, sizeof(age), "%.1f", (double)(now - c->created_ns) / 1e9);
		json_object_object_add(o, "age_s", json_object_new_double_s(atof(age), age));
		json_object_object_add(o, "invocations", json_object_new_int64((int64_t)c->served));
		json_object_array_add(arr, o);
	}
	return arr;
}

int pool_metrics(struct pool *p, struct buf *out, struct hearth_error **err)
{
	static const char *const states[] = { "starting", "idle", "busy", "draining" };
	int count[LANG_N][4] = { { 0 } };
	struct ctr *c;
	struct pfn *f;
	int r;

	TAILQ_FOREACH(c, &p->ctrs, link) {
		const char *s = ctr_state_name(c);

		for (int i = 0; i < 4; i++)
			if (strcmp(s, states[i]) == 0)
				count[c->lang][i]++;
	}
	if ((r = promtext_header(out, "hearth_containers", "gauge",
				 "Containers by language and state.", err)) < 0)
		return r;
	for (int l = 0; l < LANG_N; l++)
		for (int i = 0; i < 4; i++)
			if ((r = buf_printf(out, err,
					    "hearth_containers{language=\"%s\",state=\"%s\"} %d\n",
					    pool_lang_name((enum lang)l), states[i], count[l][i])) <
			    0)
				return r;
	/* Each family's samples together, as the format wants. */
	if ((r = promtext_header(out, "hearth_function_containers", "gauge",
				 "Live containers per function.", err)) < 0)
		return r;
	TAILQ_FOREACH(f, &p->fns, link)
		if ((r = buf_printf(out, err,
				    "hearth_function_containers{function_id=\"%" PRId64 "\"} %d\n",
				    f->id, pfn_live(f, NULL, NULL))) < 0)
			return r;
	if ((r = promtext_header(out, "hearth_queue_depth", "gauge",
				 "Calls waiting for a container, per function.", err)) < 0)
		return r;
	TAILQ_FOREACH(f, &p->fns, link)
		if ((r = buf_printf(out, err,
				    "hearth_queue_depth{function_id=\"%" PRId64 "\"} %d\n", f->id,
				    f->qlen)) < 0)
			return r;
	if ((r = promtext_single(out, "hearth_containers_recycled_total", "counter",
				 "Containers removed (timeout, crash, TTL, revision).",
				 p->n_recycled, err)) < 0 ||
	    (r = promtext_single(out, "hearth_throttled_total", "counter", "Calls answered 429.",
				 p->n_throttled, err)) < 0)
		return r;
	return promtext_single(out, "hearth_engine_up", "gauge",
			       "Whether the container engine answers.", backend_is_up(p->backend),
			       err);
}

void pool_function_containers(struct pool *p, int64_t function_id, struct pool_fn_containers *out)
{
	struct ctr *c;

	memset(out, 0, sizeof(*out));
	TAILQ_FOREACH(c, &p->ctrs, link) {
		if (!c->fn || c->bench || c->fn->id != function_id || c->state == CTR_REMOVING)
			continue;
		if (c->state == CTR_IDLE && !c->draining)
			out->idle++;
		else if (c->state == CTR_BUSY)
			out->busy++;
		else if (c->state < CTR_IDLE)
			out->starting++;
		if (c->origin == POOL_START_STEM)
			out->from_stem++;
	}
}

uint64_t pool_generation(const struct pool *p)
{
	return p->generation;
}
