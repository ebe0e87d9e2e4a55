/* bounds.h — every limit and default of Hearth that more than one part
 * relies on, defined once.  hearthd, the shim and the tests include it; it
 * holds macros only, so the static shim needs nothing more than libc.
 * The daemon's tunables (idle TTL, container cap, ...) and their defaults
 * live in one table in src/config.c instead, which also makes --help. */
#ifndef HEARTH_BOUNDS_H
#define HEARTH_BOUNDS_H

#define HEARTH_KiB 1024u
#define HEARTH_MiB (1024u * 1024u)

/* ---- a function's settings (docs/ARCHITECTURE.md, "Functions") ---- */
#define FN_NAME_MAX 64
#define FN_TIMEOUT_MIN 1   /* seconds */
#define FN_TIMEOUT_MAX 900 /* Lambda's 15 minutes */
#define FN_TIMEOUT_DEFAULT 3
#define FN_MEMORY_MIN 64 /* MB */
#define FN_MEMORY_MAX 10240
#define FN_MEMORY_DEFAULT 128
#define FN_ENV_MAX_BYTES 4096 /* Lambda's 4 KB of environment */
#define FN_MIN_WARM_DEFAULT 1
#define FN_MAX_CONCURRENCY_DEFAULT 10
#define FN_MAX_CONCURRENCY_MAX 1000
#define FN_CODE_MAX_BYTES (50u * HEARTH_MiB) /* unpacked */
#define FN_ZIP_ENTRIES_MAX 10000
#define FN_HANDLER_MAX 128
#define FN_ROUTE_MAX 256
#define FN_ENV_KEY_MAX 128
#define FN_DESCRIPTION_MAX 256 /* Lambda's */
#define FN_ROLE_MAX 2048
#define FN_RUNTIME_MAX 32
#define FN_ASYNC_RETRIES_MAX 2 /* Lambda's MaximumRetryAttempts */
#define FN_ASYNC_RETRIES_DEFAULT 2
#define FN_ASYNC_MAX_AGE_MIN 60 /* seconds: Lambda's MaximumEventAgeInSeconds */
#define FN_ASYNC_MAX_AGE_MAX 21600
#define FN_ASYNC_MAX_AGE_DEFAULT 21600

/* ---- one invocation ---- */
/* A payload or a result: Lambda's synchronous limit. */
#define INVOKE_PAYLOAD_MAX (6u * HEARTH_MiB)
/* Logs kept per invocation (the shim drops the rest and says how much). */
#define INVOKE_LOGS_MAX (64u * HEARTH_KiB)
#define INVOKE_REQUEST_ID_MAX 128
#define INVOKE_BATCH_MAX 100 /* calls in one POST /functions/execute */
/* A result or an event larger than this is not kept in its record. */
#define INVOKE_RECORD_BODY_MAX (64u * HEARTH_KiB)
/* What an envelope adds around a result: ids, timings, escaped logs and
 * error texts (logs may grow 6x when escaped: \u00XX). */
#define INVOKE_ENVELOPE_EXTRA (1u * HEARTH_MiB)

/* ---- containers ---- */
/* The user and group every function runs as ("nobody"): never root. */
#define RUNTIME_UID 65534
#define RUNTIME_GID 65534
#define RUNTIME_USER "65534:65534"
#define RUNTIME_PIDS_MAX 128 /* stops a fork bomb */
#define RUNTIME_TMP_MB 64    /* the /tmp tmpfs */

/* ---- the HTTP API ---- */
/* The largest body any route takes: a function with a base64 zip
 * (FN_CODE_MAX_BYTES of archive, 4/3 for base64, and the JSON around it). */
#define HTTP_BODY_MAX (70u * HEARTH_MiB)
#define HTTP_HEADERS_MAX (64u * HEARTH_KiB)
#define HTTP_IDLE_TIMEOUT_S 60
/* Connections the kernel queues until hearthd accepts them (it caps this
 * at net.core.somaxconn): a burst of clients waits in the queue instead of
 * having its SYNs dropped and retried a second later. */
#define HTTP_LISTEN_BACKLOG 4096
/* The default --max-connections is the open-file limit less what hearthd
 * needs besides its clients: HTTP_FD_RESERVE for SQLite (two connections,
 * each with its database, WAL and shared memory), libcurl's connections to
 * dockerd (32 at most), the event loop, the dashboard's files as they are
 * served and the connections refused over the cap as they are answered;
 * and HTTP_FD_PER_CONTAINER for each container (its shim socket, an
 * engine call about it).  Never below the MIN, and never above the MAX
 * whatever the limit allows: every connection costs memory (buffers, a
 * TLS session), and --max-connections can say more. */
#define HTTP_FD_RESERVE 128
#define HTTP_FD_PER_CONTAINER 2
#define HTTP_CONNECTIONS_AUTO_MIN 16
#define HTTP_CONNECTIONS_AUTO_MAX 16384
/* A reply the connection layer writes itself (a 503 over the cap, a 408,
 * a malformed request) is followed by this long reading and dropping what
 * the client still sends, so the client reads the reply before the close
 * and not a reset; then the connection closes. */
#define HTTP_LINGER_MS 2000
/* The longest bearer token (--token): a header line, visible ASCII. */
#define AUTH_TOKEN_MAX 256

#endif
