/* tls.c — see tls.h. */
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

struct tls {
	SSL_CTX *ctx;
};

/* OpenSSL's reason for the last failure, for a message ("no start line"). */
static const char *ssl_reason(char *buf, size_t size)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, size, "%s", r ? r : "unknown error");
	ERR_clear_error();
	return buf;
}

/* A client that offers ALPN is told HTTP/1.1, the one protocol served. */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char http11[] = "\x08http/1.1";
	unsigned char *sel;

	if (SSL_select_next_proto(&sel, outlen, http11, sizeof(http11) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* The key alone first, so a key that is fine but not the certificate's
 * is told apart from a file that holds no key. */
static EVP_PKEY *read_key(const char *file)
{
	BIO *bio = BIO_new_file(file, "r");
	EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;

	BIO_free(bio);
	return key;
}

int tls_new(struct tls **out, const char *cert_file, const char *key_file,
	    struct hearth_error **err)
{
	EVP_PKEY *key = NULL;
	struct tls *t;
	char why[256];
	int r = 0;

	/* A file that is not there or not readable says so plainly, not in
	 * OpenSSL's words. */
	if (access(cert_file, R_OK) < 0)
		return hearth_error_errno(err, errno, "--tls-cert %s", cert_file);
	if (access(key_file, R_OK) < 0)
		return hearth_error_errno(err, errno, "--tls-key %s", key_file);
	t = calloc(1, sizeof(*t));
	if (!t || !(t->ctx = SSL_CTX_new(TLS_server_method()))) {
		free(t);
		return hearth_error_make(err, ENOMEM, "TLS: cannot create a context");
	}
	ERR_clear_error();
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	/* No renegotiation (a client could make the server redo handshakes)
	 * and no compression (CRIME); idle connections keep no buffers. */
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
					    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_alpn_select_cb(t->ctx, select_alpn, NULL);
	if (SSL_CTX_use_certificate_chain_file(t->ctx, cert_file) != 1)
		r = hearth_error_make(err, EINVAL,
				      "--tls-cert %s: not a usable PEM certificate (%s)", cert_file,
				      ssl_reason(why, sizeof(why)));
	else if (!(key = read_key(key_file)))
		r = hearth_error_make(err, EINVAL,
				      "--tls-key %s: not a usable PEM private key (%s)", key_file,
				      ssl_reason(why, sizeof(why)));
	else if (SSL_CTX_use_PrivateKey(t->ctx, key) != 1 || SSL_CTX_check_private_key(t->ctx) != 1)
		r = hearth_error_make(
			err, EINVAL,
			"--tls-key %s does not belong to the certificate in --tls-cert "
			"%s (%s)",
			key_file, cert_file, ssl_reason(why, sizeof(why)));
	EVP_PKEY_free(key);
	if (r < 0) {
		tls_free(t);
		return r;
	}
	*out = t;
	return 0;
}

void tls_free(struct tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

struct bufferevent *tls_bufferevent(struct tls *t, struct event_base *base)
{
	SSL *ssl = SSL_new(t->ctx);
	struct bufferevent *bev;

	if (!ssl)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	/* A client that closes without close_notify (most do, once they have
	 * their reply) is an end of input, not an error. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

void tls_close_notify(struct bufferevent *bev)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);

	if (!ssl || !SSL_is_init_finished(ssl) ||
	    evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	SSL_shutdown(ssl);
	ERR_clear_error();
}
