/* test_hdr.c — the bench histogram (bench/hdr.c): bucket arithmetic,
 * resolution bounds, percentiles against an exact sort, merge. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../bench/hdr.h"
#include "tap.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* The exact value at a percentile, same rank rule as hdr_percentile. */
static uint64_t exact_pct(const uint64_t *v, size_t n, double p)
{
	size_t rank = (size_t)ceil(p * (double)n / 100.0 - 1e-9);
	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

int main(void)
{
	/* Every index maps back to a range holding the values that map to it,
	 * the ranges tile [0, HDR_MAX_NS) without gaps. */
	size_t nb = hdr_nbuckets();
	int tiled = 1;
	for (size_t i = 0; i + 1 < nb; i++)
		if (hdr_highest(i) + 1 != hdr_lowest(i + 1))
			tiled = 0;
	ok(tiled, "buckets tile the range (%zu buckets)", nb);
	is_int(hdr_highest(nb - 1), HDR_MAX_NS - 1, "the top bucket ends at HDR_MAX_NS");
	int roundtrip = 1;
	for (size_t i = 0; i < nb; i++)
		if (hdr_index(hdr_lowest(i)) != i || hdr_index(hdr_highest(i)) != i)
			roundtrip = 0;
	ok(roundtrip, "index(lowest(i)) == index(highest(i)) == i");
	is_int(hdr_index(HDR_MAX_NS * 4), nb - 1, "values above the range clamp to the top bucket");

	/* Resolution: exact below 2048 ns, <= 1 µs wide up to 1 ms, <= 0.1 %
	 * relative everywhere. */
	int exact = 1, us = 1, rel = 1;
	for (uint64_t v = 0; v < 2048; v++)
		if (hdr_lowest(hdr_index(v)) != v || hdr_highest(hdr_index(v)) != v)
			exact = 0;
	for (uint64_t v = 2048; v <= 1000000; v += 97) {
		size_t i = hdr_index(v);
		if (hdr_highest(i) - hdr_lowest(i) + 1 > 1000)
			us = 0;
	}
	for (uint64_t v = 2048; v < HDR_MAX_NS; v = v * 3 / 2 + 7) {
		size_t i = hdr_index(v);
		if ((double)(hdr_highest(i) - hdr_lowest(i) + 1) / (double)hdr_lowest(i) >
		    1.0 / 1024 + 1e-12)
			rel = 0;
	}
	ok(exact, "1 ns buckets below 2048 ns");
	ok(us, "buckets at most 1 µs wide up to 1 ms");
	ok(rel, "buckets at most 1/1024 of their value wide up to ~137 s");

	/* Empty histogram. */
	struct hdr *h = hdr_new();
	ok(h != NULL, "hdr_new");
	is_int(hdr_count(h), 0, "empty: count 0");
	is_int(hdr_percentile(h, 50), 0, "empty: p50 is 0");
	ok(hdr_mean(h) == 0.0, "empty: mean 0");

	/* One value. */
	hdr_record(h, 123456);
	is_int(hdr_percentile(h, 0), 123456, "one value: p0 is it (clamped to min)");
	is_int(hdr_percentile(h, 100), 123456, "one value: p100 is it (clamped to max)");
	is_int(hdr_min(h), 123456, "min exact");
	is_int(hdr_max(h), 123456, "max exact");
	hdr_reset(h);

	/* 1..1000 µs uniformly: known percentiles. */
	for (uint64_t v = 1; v <= 1000; v++)
		hdr_record(h, v * 1000);
	is_int(hdr_count(h), 1000, "1000 values");
	uint64_t p50 = hdr_percentile(h, 50), p99 = hdr_percentile(h, 99),
		 p999 = hdr_percentile(h, 99.9);
	ok(p50 >= 500000 && p50 < 500000 + 512, "p50 of 1..1000 µs is 500 µs (got %llu ns)",
	   (unsigned long long)p50);
	ok(p99 >= 990000 && p99 < 990000 + 512, "p99 is 990 µs (got %llu ns)",
	   (unsigned long long)p99);
	ok(p999 >= 999000 && p999 < 999000 + 512, "p99.9 is 999 µs (got %llu ns)",
	   (unsigned long long)p999);
	is_int(hdr_percentile(h, 100), 1000000, "p100 is the max");
	ok(hdr_mean(h) == 500500.0, "mean exact (500.5 µs)");
	hdr_reset(h);

	/* Random log-uniform values from 1 µs to 100 s against an exact sort:
	 * every percentile within 0.1 %. */
	enum { N = 200000 };
	uint64_t *vals = malloc(N * sizeof(*vals));
	ok(vals != NULL, "allocated %d samples", N);
	if (!vals)
		return tap_done();
	for (size_t i = 0; i < N; i++) {
		int shift = 10 + (int)(rng() % 27); /* 1 µs .. ~137 s */
		uint64_t v = (rng() & ((1ull << shift) - 1)) | (1ull << (shift - 1));
		if (v >= HDR_MAX_NS)
			v = HDR_MAX_NS - 1;
		vals[i] = v;
		hdr_record(h, v);
	}
	qsort(vals, N, sizeof(*vals), cmp_u64);
	static const double ps[] = { 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100 };
	int within = 1;
	for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		uint64_t want = exact_pct(vals, N, ps[k]), got = hdr_percentile(h, ps[k]);
		double err = got > want ? (double)(got - want) / (double)want
					: (double)(want - got) / (double)want;
		if (err > 1.0 / 1024) {
			within = 0;
			printf("# p%g: got %llu want %llu\n", ps[k], (unsigned long long)got,
			       (unsigned long long)want);
		}
		if (got < want) /* highest-equivalent never reports below */
			within = 0;
	}
	ok(within, "percentiles within 0.1 %% of an exact sort and never below it");
	is_int(hdr_min(h), vals[0], "min exact");
	is_int(hdr_max(h), vals[N - 1], "max exact");
	long double sum = 0;
	for (size_t i = 0; i < N; i++)
		sum += vals[i];
	double mean = (double)(sum / N);
	ok(hdr_mean(h) > mean * 0.999999 && hdr_mean(h) < mean * 1.000001, "mean exact");

	/* Buckets iterate in order and add up. */
	size_t it = 0;
	uint64_t lo, hi, cnt, total = 0, prev = 0;
	int ordered = 1;
	while (hdr_next(h, &it, &lo, &hi, &cnt)) {
		if (lo < prev || hi < lo || cnt == 0)
			ordered = 0;
		prev = hi + 1;
		total += cnt;
	}
	ok(ordered, "hdr_next walks non-empty buckets in order");
	is_int(total, N, "bucket counts add up to the count");

	/* Merge: two halves equal the whole. */
	struct hdr *a = hdr_new(), *b = hdr_new(), *m = hdr_new();
	for (size_t i = 0; i < N; i++)
		hdr_record(i % 2 ? a : b, vals[i]);
	hdr_merge(m, a);
	hdr_merge(m, b);
	int same = hdr_count(m) == hdr_count(h) && hdr_min(m) == hdr_min(h) &&
		   hdr_max(m) == hdr_max(h);
	for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++)
		if (hdr_percentile(m, ps[k]) != hdr_percentile(h, ps[k]))
			same = 0;
	ok(same, "merging two halves gives the same figures");

	/* Clamping above the range. */
	hdr_reset(a);
	hdr_record(a, HDR_MAX_NS * 2);
	is_int(hdr_clamped(a), 1, "a value past the range is counted as clamped");
	is_int(hdr_max(a), HDR_MAX_NS * 2, "and the exact max is kept");

	free(vals);
	hdr_free(a);
	hdr_free(b);
	hdr_free(m);
	hdr_free(h);
	return tap_done();
}
