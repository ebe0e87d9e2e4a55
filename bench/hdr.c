/* hdr.c — see hdr.h.  Layout: indexes [0, 2^S) hold the values 0..2^S-1
 * one by one; above that, bucket b >= 1 covers [2^(S+b-1), 2^(S+b)) in
 * 2^(S-1) slots of width 2^b. */
#include "hdr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S HDR_SUB_BITS
#define FULL ((uint64_t)1 << S)
#define HALF ((uint64_t)1 << (S - 1))
/* HDR_MAX_NS = 2^37 lies in bucket 37 - S + 1; stop just below it. */
#define NBUCKETS ((size_t)(FULL + (uint64_t)(37 - S) * HALF))

struct hdr {
	uint64_t n, clamped, min, max;
	long double sum;
	uint64_t counts[NBUCKETS];
};

size_t hdr_nbuckets(void)
{
	return NBUCKETS;
}

size_t hdr_index(uint64_t v)
{
	if (v >= HDR_MAX_NS)
		return NBUCKETS - 1;
	if (v < FULL)
		return (size_t)v;
	int msb = 63 - __builtin_clzll(v);
	int b = msb - S + 1;   /* >= 1 */
	uint64_t sub = v >> b; /* in [HALF, FULL) */
	return (size_t)(FULL + (uint64_t)(b - 1) * HALF + (sub - HALF));
}

uint64_t hdr_lowest(size_t idx)
{
	if (idx < FULL)
		return idx;
	uint64_t rel = idx - FULL;
	int b = (int)(rel / HALF) + 1;
	uint64_t sub = HALF + rel % HALF;
	return sub << b;
}

uint64_t hdr_highest(size_t idx)
{
	if (idx < FULL)
		return idx;
	int b = (int)((idx - FULL) / HALF) + 1;
	return hdr_lowest(idx) + ((uint64_t)1 << b) - 1;
}

struct hdr *hdr_new(void)
{
	struct hdr *h = calloc(1, sizeof(*h));
	return h;
}

void hdr_free(struct hdr *h)
{
	free(h);
}

void hdr_reset(struct hdr *h)
{
	memset(h, 0, sizeof(*h));
}

void hdr_record(struct hdr *h, uint64_t v)
{
	if (v >= HDR_MAX_NS)
		h->clamped++;
	h->counts[hdr_index(v)]++;
	if (h->n == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->n++;
	h->sum += v;
}

void hdr_merge(struct hdr *dst, const struct hdr *src)
{
	if (src->n == 0)
		return;
	for (size_t i = 0; i < NBUCKETS; i++)
		dst->counts[i] += src->counts[i];
	if (dst->n == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->n += src->n;
	dst->clamped += src->clamped;
	dst->sum += src->sum;
}

uint64_t hdr_count(const struct hdr *h)
{
	return h->n;
}
uint64_t hdr_clamped(const struct hdr *h)
{
	return h->clamped;
}
uint64_t hdr_min(const struct hdr *h)
{
	return h->n ? h->min : 0;
}
uint64_t hdr_max(const struct hdr *h)
{
	return h->max;
}

double hdr_mean(const struct hdr *h)
{
	return h->n ? (double)(h->sum / h->n) : 0.0;
}

double hdr_stddev(const struct hdr *h)
{
	if (h->n < 2)
		return 0.0;
	double mean = hdr_mean(h), acc = 0.0;
	for (size_t i = 0; i < NBUCKETS; i++) {
		if (!h->counts[i])
			continue;
		double mid = ((double)hdr_lowest(i) + (double)hdr_highest(i)) / 2.0;
		acc += (double)h->counts[i] * (mid - mean) * (mid - mean);
	}
	return sqrt(acc / (double)h->n);
}

uint64_t hdr_percentile(const struct hdr *h, double p)
{
	if (h->n == 0)
		return 0;
	if (p < 0)
		p = 0;
	if (p > 100)
		p = 100;
	/* The epsilon keeps 99.9 % of 1000 at rank 999, not 1000. */
	uint64_t rank = (uint64_t)ceil(p * (double)h->n / 100.0 - 1e-9);
	if (rank < 1)
		rank = 1;
	if (rank > h->n)
		rank = h->n;
	uint64_t seen = 0;
	for (size_t i = 0; i < NBUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			uint64_t v = hdr_highest(i);
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}

int hdr_next(const struct hdr *h, size_t *it, uint64_t *lo, uint64_t *hi, uint64_t *count)
{
	for (size_t i = *it; i < NBUCKETS; i++) {
		if (h->counts[i]) {
			*lo = hdr_lowest(i);
			*hi = hdr_highest(i);
			*count = h->counts[i];
			*it = i + 1;
			return 1;
		}
	}
	*it = NBUCKETS;
	return 0;
}
