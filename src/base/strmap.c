/* strmap.c — see strmap.h. */
#include "strmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct entry *next;
	uint64_t hash;
	int64_t value;
	size_t len;
	char key[]; /* len bytes and a NUL */
};

struct strmap {
	struct entry **slots;
	size_t nslots, count;
};

uint64_t strmap_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

struct strmap *strmap_new(void)
{
	struct strmap *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->nslots = 64;
	m->slots = calloc(m->nslots, sizeof(*m->slots));
	if (!m->slots) {
		free(m);
		return NULL;
	}
	return m;
}

void strmap_free(struct strmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nslots; i++)
		for (struct entry *e = m->slots[i], *next; e; e = next) {
			next = e->next;
			free(e);
		}
	free(m->slots);
	free(m);
}

static struct entry **find(const struct strmap *m, const char *key, size_t len, uint64_t h)
{
	struct entry **pe = &m->slots[h & (m->nslots - 1)];

	for (; *pe; pe = &(*pe)->next)
		if ((*pe)->hash == h && (*pe)->len == len && memcmp((*pe)->key, key, len) == 0)
			return pe;
	return pe;
}

/* Twice the slots once there are as many entries as slots. */
static void grow(struct strmap *m)
{
	size_t n = m->nslots * 2;
	struct entry **slots = calloc(n, sizeof(*slots));

	if (!slots)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < m->nslots; i++)
		for (struct entry *e = m->slots[i], *next; e; e = next) {
			next = e->next;
			e->next = slots[e->hash & (n - 1)];
			slots[e->hash & (n - 1)] = e;
		}
	free(m->slots);
	m->slots = slots;
	m->nslots = n;
}

int strmap_put(struct strmap *m, const char *key, size_t len, int64_t value)
{
	uint64_t h = strmap_hash(key, len);
	struct entry **pe = find(m, key, len, h), *e;

	if (*pe) {
		(*pe)->value = value;
		return 0;
	}
	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return -ENOMEM;
	e->next = NULL;
	e->hash = h;
	e->value = value;
	e->len = len;
	memcpy(e->key, key, len);
	e->key[len] = '\0';
	*pe = e;
	if (++m->count > m->nslots)
		grow(m);
	return 0;
}

bool strmap_get(const struct strmap *m, const char *key, size_t len, int64_t *value)
{
	struct entry **pe = find(m, key, len, strmap_hash(key, len));

	if (!*pe)
		return false;
	*value = (*pe)->value;
	return true;
}

void strmap_del(struct strmap *m, const char *key, size_t len)
{
	struct entry **pe = find(m, key, len, strmap_hash(key, len)), *e = *pe;

	if (!e)
		return;
	*pe = e->next;
	free(e);
	m->count--;
}

size_t strmap_count(const struct strmap *m)
{
	return m->count;
}
