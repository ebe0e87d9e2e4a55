/* config.h — hearthd's settings: defaults, then HEARTH_* environment
 * variables, then command-line flags (the last one wins).  A plain value
 * struct; every field has one flag and one variable (see config_usage). */
#ifndef HEARTH_CONFIG_H
#define HEARTH_CONFIG_H

#include <stdio.h>

#include "bounds.h"
#include "error.h"

struct hearth_config {
	char listen_host[256];
	int listen_port;
	char data_dir[1024];
	char web_dir[1024];
	char docker_socket[108]; /* a sun_path is 108 bytes */
	char log_level[16];
	int shutdown_grace_s; /* how long in-flight requests may finish */
	/* the connections (src/api/conns.h) */
	char tls_cert[1024]; /* both or neither: HTTPS when set */
	char tls_key[1024];
	int max_connections; /* 0: from the open-file limit (conns_default_max) */
	int header_timeout_s;
	int body_timeout_s;
	/* the pool */
	int idle_ttl_s;
	int max_containers;
	int stem_cells; /* per language */
	int queue_size; /* per function */
	int retention;	/* invocation records kept */
	/* asynchronous calls */
	int async_queue_max;   /* queued or running, per function */
	int async_queue_total; /* the same over every function */
	int time_scale;	       /* divides async delays and ages: tests only */
	/* who may call: the bearer token (--token, or --token-file's first
	 * line), and --insecure to listen beyond loopback without one */
	char token[AUTH_TOKEN_MAX + 1];
	char token_file[1024];
	int insecure;
	char image_python[256];
	char image_node[256];
	/* The Lambda API's credentials: when both are set, its requests must
	 * carry a SigV4 signature made with them (empty: not checked). */
	char aws_access_key_id[129];
	char aws_secret_access_key[129];
	char aws_region[64]; /* in ARNs, and what signatures are scoped to */
	int show_help;
	int show_version;
};

/* Fills cfg from defaults, the environment and argv.  -EINVAL with a
 * message naming the flag on bad input. */
int config_load(struct hearth_config *cfg, int argc, char **argv, struct hearth_error **err);
void config_usage(FILE *out, const char *argv0);

#endif
