/* Unit tests for auth.c: the constant-time comparison, loopback addresses,
 * the token rules, --token-file and the --listen check. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "bounds.h"
#include "tap.h"

static bool loopback4(const char *addr)
{
	struct sockaddr_in in = { .sin_family = AF_INET };

	inet_pton(AF_INET, addr, &in.sin_addr);
	return auth_is_loopback((struct sockaddr *)&in);
}

static bool loopback6(const char *addr)
{
	struct sockaddr_in6 in = { .sin6_family = AF_INET6 };

	inet_pton(AF_INET6, addr, &in.sin6_addr);
	return auth_is_loopback((struct sockaddr *)&in);
}

static int read_token(const char *content, char *out, size_t size, struct hearth_error **err)
{
	char path[] = "/tmp/hearth-test-token-XXXXXX";
	int fd = mkstemp(path), r;

	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content))
		return -EIO;
	close(fd);
	r = auth_token_read(path, out, size, err);
	unlink(path);
	return r;
}

int main(void)
{
	struct hearth_error *err = NULL;
	char tok[AUTH_TOKEN_MAX + 1], big[AUTH_TOKEN_MAX + 10];

	ok(auth_equal("secret", 6, "secret", 6), "equal bytes are equal");
	ok(!auth_equal("secret", 6, "secreT", 6), "one byte differs");
	ok(!auth_equal("secret", 6, "secret!", 7), "a byte longer");
	ok(!auth_equal("secre", 5, "secret", 6), "a byte shorter");
	ok(!auth_equal("", 0, "secret", 6), "empty against a token");
	ok(auth_equal("", 0, "", 0), "empty against empty (never a token: refused at start)");
	ok(!auth_equal("a\0b", 3, "a\0c", 3), "bytes after a NUL count");

	ok(loopback4("127.0.0.1") && loopback4("127.255.0.9"), "127.0.0.0/8 is loopback");
	ok(!loopback4("0.0.0.0") && !loopback4("10.0.0.1") && !loopback4("128.0.0.1"),
	   "0.0.0.0, 10/8 and 128.0.0.1 are not");
	ok(loopback6("::1") && loopback6("::ffff:127.0.0.1"), "::1 and ::ffff:127.0.0.1 are");
	ok(!loopback6("::") && !loopback6("fe80::1") && !loopback6("::ffff:10.0.0.1"),
	   ":: and fe80::1 and ::ffff:10.0.0.1 are not");

	ok(auth_token_check("abc-DEF_123.~+/=", "t", NULL) == 0, "a token of visible ASCII");
	ok(auth_token_check("", "t", &err) == -EINVAL && strstr(err->msg, "empty"),
	   "an empty token is refused (%s)", err ? err->msg : "");
	hearth_error_free(err), err = NULL;
	ok(auth_token_check("a b", "--token", &err) == -EINVAL && strstr(err->msg, "--token") &&
		   strstr(err->msg, "byte 2"),
	   "a space is refused, and where (%s)", err ? err->msg : "");
	hearth_error_free(err), err = NULL;
	ok(auth_token_check("tab\there", "t", NULL) == -EINVAL, "a tab is refused");
	ok(auth_token_check("caf\xc3\xa9", "t", NULL) == -EINVAL, "non-ASCII is refused");
	memset(big, 'x', AUTH_TOKEN_MAX + 1);
	big[AUTH_TOKEN_MAX + 1] = '\0';
	ok(auth_token_check(big, "t", NULL) == -EINVAL, "a token over %d bytes is refused",
	   AUTH_TOKEN_MAX);
	big[AUTH_TOKEN_MAX] = '\0';
	ok(auth_token_check(big, "t", NULL) == 0, "one of %d bytes is fine", AUTH_TOKEN_MAX);

	ok(read_token("s3cret\n", tok, sizeof(tok), NULL) == 0 && strcmp(tok, "s3cret") == 0,
	   "--token-file: the first line, without its line break");
	ok(read_token("s3cret\r\nsecond line\n", tok, sizeof(tok), NULL) == 0 &&
		   strcmp(tok, "s3cret") == 0,
	   "--token-file: CRLF, and later lines ignored");
	ok(read_token("s3cret", tok, sizeof(tok), NULL) == 0 && strcmp(tok, "s3cret") == 0,
	   "--token-file: no line break at all");
	ok(read_token("\n", tok, sizeof(tok), &err) == -EINVAL && strstr(err->msg, "empty"),
	   "--token-file: an empty first line is refused (%s)", err ? err->msg : "");
	hearth_error_free(err), err = NULL;
	ok(read_token("with space\n", tok, sizeof(tok), &err) == -EINVAL &&
		   strstr(err->msg, "--token-file") && !strstr(err->msg, "with space"),
	   "--token-file: a bad token is refused without being shown (%s)", err ? err->msg : "");
	hearth_error_free(err), err = NULL;
	ok(auth_token_read("/nonexistent/token", tok, sizeof(tok), &err) < 0 &&
		   strstr(err->msg, "/nonexistent/token"),
	   "--token-file: a missing file is named (%s)", err ? err->msg : "");
	hearth_error_free(err), err = NULL;

	ok(auth_listen_check("127.0.0.1", false, false, NULL) == 0, "no token: 127.0.0.1 is fine");
	ok(auth_listen_check("::1", false, false, NULL) == 0, "no token: ::1 is fine");
	ok(auth_listen_check("[::1]", false, false, NULL) == 0, "no token: [::1] is fine");
	ok(auth_listen_check("localhost", false, false, NULL) == 0, "no token: localhost is fine");
	ok(auth_listen_check("0.0.0.0", false, false, &err) == -EPERM &&
		   strstr(err->msg, "--insecure") && strstr(err->msg, "--token-file"),
	   "no token: 0.0.0.0 is refused, naming both ways out (%s)", err ? err->msg : "");
	hearth_error_free(err), err = NULL;
	ok(auth_listen_check("::", false, false, NULL) == -EPERM, "no token: :: is refused");
	ok(auth_listen_check("0.0.0.0", true, false, NULL) == 0, "a token: 0.0.0.0 is fine");
	ok(auth_listen_check("0.0.0.0", false, true, NULL) == 0, "--insecure: 0.0.0.0 is fine");
	ok(auth_listen_check("no.such.host.invalid", false, false, &err) == -EINVAL,
	   "an unresolvable host is a clear error (%s)", err ? err->msg : "");
	hearth_error_free(err), err = NULL;
	return tap_done();
}
