/* config.c — see config.h.  One table drives the flags, the HEARTH_*
 * variables and --help, so the three can never disagree. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "docker.h"
#include "util.h"

#ifndef HEARTH_DEFAULT_WEB_DIR
#define HEARTH_DEFAULT_WEB_DIR "web"
#endif

enum opt_kind { OPT_STR, OPT_INT, OPT_LISTEN, OPT_FLAG };

struct opt {
	const char *name; /* flag without "--" */
	const char *env;
	enum opt_kind kind;
	size_t off;	 /* offset in struct hearth_config */
	size_t size;	 /* for OPT_STR */
	int min, max;	 /* for OPT_INT */
	const char *def; /* the default, as it would be written on the command line */
	const char *help;
};

/* The table below is laid out by hand, for reading. */
/* clang-format off */
#define STR(f, n, e, d, h) { n, e, OPT_STR, offsetof(struct hearth_config, f), \
	sizeof(((struct hearth_config *)0)->f), 0, 0, d, h }
#define INT(f, n, e, lo, hi, d, h) { n, e, OPT_INT, offsetof(struct hearth_config, f), 0, lo, hi, \
	d, h }

/* The one table of hearthd's settings: flags, variables, defaults, --help. */
static const struct opt opts[] = {
	{ "listen", "HEARTH_LISTEN", OPT_LISTEN, 0, 0, 0, 0, "127.0.0.1:8080",
	  "HOST:PORT to serve the API and dashboard on" },
	STR(data_dir, "data-dir", "HEARTH_DATA_DIR", "./hearth-data", "folder for hearth.db and code/"),
	STR(web_dir, "web-dir", "HEARTH_WEB_DIR", NULL,
	    "folder of the dashboard served at / (default ./web/dist when it exists, else "
	    HEARTH_DEFAULT_WEB_DIR ")"),
	STR(docker_socket, "docker-socket", "HEARTH_DOCKER_SOCKET", DOCKER_DEFAULT_SOCKET,
	    "Docker Engine API socket"),
	STR(log_level, "log-level", "HEARTH_LOG_LEVEL", "info", "debug, info, warn or error"),
	INT(shutdown_grace_s, "shutdown-grace", "HEARTH_SHUTDOWN_GRACE", 0, 3600, "30",
	    "seconds in-flight requests get to finish on SIGTERM"),
	STR(tls_cert, "tls-cert", "HEARTH_TLS_CERT", NULL,
	    "PEM certificate (chain) to serve HTTPS with; needs --tls-key"),
	STR(tls_key, "tls-key", "HEARTH_TLS_KEY", NULL,
	    "PEM private key of --tls-cert"),
	INT(max_connections, "max-connections", "HEARTH_MAX_CONNECTIONS", 1, 1000000, NULL,
	    "client connections served at once; more are answered 503 (default: the "
	    "open-file limit less room for containers, Docker and SQLite, at most 16384)"),
	INT(header_timeout_s, "header-timeout", "HEARTH_HEADER_TIMEOUT", 1, 3600, "10",
	    "seconds a client gets to send a request's line and headers"),
	INT(body_timeout_s, "body-timeout", "HEARTH_BODY_TIMEOUT", 1, 86400, "60",
	    "seconds a client gets to send a request's body once its headers are in"),
	INT(idle_ttl_s, "idle-ttl", "HEARTH_IDLE_TTL", 1, 86400, "600",
	    "seconds an idle container above min_warm is kept"),
	INT(max_containers, "max-containers", "HEARTH_MAX_CONTAINERS", 1, 10000, "64",
	    "global cap on containers"),
	INT(stem_cells, "stem-cells", "HEARTH_STEM_CELLS", 0, 64, "1",
	    "prestarted unbound containers per language"),
	INT(queue_size, "queue-size", "HEARTH_QUEUE_SIZE", 0, 100000, "100",
	    "calls that may wait per function before 429"),
	STR(image_python, "image-python", "HEARTH_IMAGE_PYTHON", "hearth/python:latest",
	    "runtime image for python functions"),
	STR(image_node, "image-node", "HEARTH_IMAGE_NODE", "hearth/node:latest",
	    "runtime image for node functions"),
	INT(retention, "retention", "HEARTH_RETENTION", 0, 100000000, "100000",
	    "invocation records kept (0: none, and no records writer)"),
	STR(aws_access_key_id, "aws-access-key-id", "HEARTH_AWS_ACCESS_KEY_ID", NULL,
	    "access key id the Lambda API's SigV4 signatures must use (with the secret; unset: "
	    "signatures are not checked)"),
	STR(aws_secret_access_key, "aws-secret-access-key", "HEARTH_AWS_SECRET_ACCESS_KEY", NULL,
	    "secret access key of --aws-access-key-id (prefer the variable: flags show in ps)"),
	STR(aws_region, "aws-region", "HEARTH_AWS_REGION", "us-east-1",
	    "region of the Lambda API: its ARNs, and the scope signatures must name"),
	INT(async_queue_max, "async-queue-max", "HEARTH_ASYNC_QUEUE_MAX", 1, 10000000, "10000",
	    "async calls queued or running per function before 429"),
	INT(async_queue_total, "async-queue-total", "HEARTH_ASYNC_QUEUE_TOTAL", 1, 100000000,
	    "100000", "async calls queued or running over every function before 429"),
	INT(time_scale, "time-scale", "HEARTH_TIME_SCALE", 1, 1000000, "1",
	    "divides every async delay and age (retry back-off, async_max_age): for tests and "
	    "trace replays only"),
	STR(token, "token", "HEARTH_TOKEN", NULL,
	    "bearer token every API call and /events must send (prefer the variable or "
	    "--token-file: flags show in ps)"),
	STR(token_file, "token-file", "HEARTH_TOKEN_FILE", NULL,
	    "file whose first line is the token"),
	{ "insecure", "HEARTH_INSECURE", OPT_FLAG, offsetof(struct hearth_config, insecure), 0, 0, 0,
	  NULL, "listen on a non-loopback address without a token (anyone who reaches the port "
	  "can run code)" },
	{ "help", NULL, OPT_FLAG, offsetof(struct hearth_config, show_help), 0, 0, 0, NULL,
	  "print this help and exit" },
	{ "version", NULL, OPT_FLAG, offsetof(struct hearth_config, show_version), 0, 0, 0, NULL,
	  "print the version and exit" },
};
/* clang-format on */
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static int set_opt(struct hearth_config *c, const struct opt *o, const char *v, const char *from,
		   struct hearth_error **err);

static void defaults(struct hearth_config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NOPTS; i++)
		if (opts[i].def)
			set_opt(c, &opts[i], opts[i].def, "default", NULL);
	/* An installed hearthd serves the installed dashboard; one run from
	 * the source tree (its built web/dist exists) serves that. */
	if (access("web/dist/index.html", R_OK) == 0)
		strcpy(c->web_dir, "web/dist");
	else
		snprintf(c->web_dir, sizeof(c->web_dir), "%s", HEARTH_DEFAULT_WEB_DIR);
}

static int parse_listen(struct hearth_config *c, const char *v, const char *from,
			struct hearth_error **err)
{
	const char *colon = strrchr(v, ':');
	int64_t port;
	size_t hlen;

	if (!colon || colon == v)
		return hearth_error_make(err, EINVAL, "%s: '%s' is not HOST:PORT", from, v);
	hlen = (size_t)(colon - v);
	if (hlen >= sizeof(c->listen_host))
		return hearth_error_make(err, EINVAL, "%s: host too long", from);
	if (util_parse_i64(colon + 1, 0, 65535, &port, NULL) < 0)
		return hearth_error_make(err, EINVAL, "%s: '%s' is not a port (0-65535)", from,
					 colon + 1);
	memcpy(c->listen_host, v, hlen);
	c->listen_host[hlen] = '\0';
	c->listen_port = (int)port;
	return 0;
}

static int set_opt(struct hearth_config *c, const struct opt *o, const char *v, const char *from,
		   struct hearth_error **err)
{
	char *field = (char *)c + o->off;
	int64_t n;

	switch (o->kind) {
	case OPT_LISTEN: return parse_listen(c, v, from, err);
	case OPT_STR:
		if (!*v)
			return hearth_error_make(err, EINVAL, "%s: must not be empty", from);
		if (strlen(v) >= o->size)
			return hearth_error_make(err, EINVAL, "%s: longer than %zu bytes", from,
						 o->size - 1);
		strcpy(field, v);
		return 0;
	case OPT_INT:
		if (util_parse_i64(v, o->min, o->max, &n, NULL) < 0)
			return hearth_error_make(err, EINVAL,
						 "%s: '%s' is not an integer in %d..%d", from, v,
						 o->min, o->max);
		*(int *)(void *)field = (int)n;
		return 0;
	case OPT_FLAG:
		/* a flag on the command line has no value; a variable says 1 or 0 */
		if (!*v || strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0)
			*(int *)(void *)field = 1;
		else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0 || strcmp(v, "no") == 0)
			*(int *)(void *)field = 0;
		else
			return hearth_error_make(err, EINVAL, "%s: '%s' is not 1 or 0", from, v);
		return 0;
	}
	return hearth_error_make(err, EINVAL, "%s: unknown option kind", from);
}

/* The two halves of a key pair come together; a region is what AWS names
 * one ("us-east-1"), as it goes into ARNs and signature scopes. */
static int check_aws(const struct hearth_config *c, struct hearth_error **err)
{
	if (!c->aws_access_key_id[0] != !c->aws_secret_access_key[0])
		return hearth_error_make(err, EINVAL,
					 "--aws-access-key-id and --aws-secret-access-key go "
					 "together: give both or neither");
	if (strspn(c->aws_region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(c->aws_region))
		return hearth_error_make(err, EINVAL,
					 "--aws-region: '%s' is not a region name (e.g. us-east-1)",
					 c->aws_region);
	return 0;
}

/* One token, from one place; what it may hold is auth.c's rule. */
static int check_token(struct hearth_config *c, struct hearth_error **err)
{
	if (c->token[0] && c->token_file[0])
		return hearth_error_make(err, EINVAL,
					 "--token and --token-file (or HEARTH_TOKEN and "
					 "HEARTH_TOKEN_FILE): give one, not both");
	if (c->token_file[0])
		return auth_token_read(c->token_file, c->token, sizeof(c->token), err);
	if (c->token[0])
		return auth_token_check(c->token, "--token", err);
	return 0;
}

int config_load(struct hearth_config *cfg, int argc, char **argv, struct hearth_error **err)
{
	struct option lopts[NOPTS + 1];
	char from[64];
	int r, c, idx;

	defaults(cfg);
	for (size_t i = 0; i < NOPTS; i++) {
		const char *v = opts[i].env ? getenv(opts[i].env) : NULL;

		if (v && (r = set_opt(cfg, &opts[i], v, opts[i].env, err)) < 0)
			return r;
	}
	for (size_t i = 0; i < NOPTS; i++) {
		lopts[i].name = opts[i].name;
		lopts[i].has_arg = opts[i].kind == OPT_FLAG ? no_argument : required_argument;
		lopts[i].flag = NULL;
		lopts[i].val = 256 + (int)i;
	}
	memset(&lopts[NOPTS], 0, sizeof(lopts[NOPTS]));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hV", lopts, &idx)) != -1) {
		if (c == 'h') {
			cfg->show_help = 1;
			continue;
		}
		if (c == 'V') {
			cfg->show_version = 1;
			continue;
		}
		if (c < 256)
			return hearth_error_make(err, EINVAL,
						 "unknown or incomplete option '%s' (see --help)",
						 argv[optind - 1]);
		snprintf(from, sizeof(from), "--%s", opts[c - 256].name);
		if ((r = set_opt(cfg, &opts[c - 256], optarg ? optarg : "", from, err)) < 0)
			return r;
	}
	if (optind < argc)
		return hearth_error_make(err, EINVAL, "unexpected argument '%s' (see --help)",
					 argv[optind]);
	if (!cfg->show_help && !cfg->show_version && !cfg->tls_cert[0] != !cfg->tls_key[0])
		return hearth_error_make(err, EINVAL,
					 "--tls-cert and --tls-key go together: %s is missing",
					 cfg->tls_cert[0] ? "--tls-key" : "--tls-cert");
	if ((r = check_token(cfg, err)) < 0)
		return r;
	return check_aws(cfg, err);
}

void config_usage(FILE *out, const char *argv0)
{
	fprintf(out, "usage: %s [options]\n\nHearth, a self-hosted AWS Lambda.\n\n", argv0);
	for (size_t i = 0; i < NOPTS; i++) {
		char left[64];

		snprintf(left, sizeof(left), "--%s%s", opts[i].name,
			 opts[i].kind == OPT_FLAG ? "" : " VALUE");
		fprintf(out, "  %-26s %s", left, opts[i].help);
		if (opts[i].def)
			fprintf(out, " (default %s)", opts[i].def);
		if (opts[i].env)
			fprintf(out, " [%s]", opts[i].env);
		fputc('\n', out);
	}
}
