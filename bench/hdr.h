/* hdr.h — an HDR-style latency histogram (log-linear buckets) for the
 * bench tools.  Values are nanoseconds.  Below 2^HDR_SUB_BITS ns every
 * value has its own bucket; above, each power of two is split into
 * 2^(HDR_SUB_BITS-1) equal buckets, so a recorded value is known to within
 * 1/1024 (~0.1 %) of itself: 512 ns wide buckets around 1 ms (finer than
 * 1 µs), ~0.1 s wide around 100 s.  Values above HDR_MAX_NS are clamped
 * into the top bucket (and counted in `clamped`); min, max and the mean
 * are kept exactly.  Fixed size (~240 KB), no allocation after hdr_new. */
#ifndef HEARTH_BENCH_HDR_H
#define HEARTH_BENCH_HDR_H

#include <stddef.h>
#include <stdint.h>

#define HDR_SUB_BITS 11
#define HDR_MAX_NS ((uint64_t)1 << 37) /* ~137 s */

struct hdr;

struct hdr *hdr_new(void);
void hdr_free(struct hdr *h);
void hdr_reset(struct hdr *h);
void hdr_record(struct hdr *h, uint64_t ns);
/* Adds every count of src into dst (per-connection histograms merged). */
void hdr_merge(struct hdr *dst, const struct hdr *src);

uint64_t hdr_count(const struct hdr *h);
uint64_t hdr_clamped(const struct hdr *h);
uint64_t hdr_min(const struct hdr *h); /* 0 when empty */
uint64_t hdr_max(const struct hdr *h);
double hdr_mean(const struct hdr *h);
double hdr_stddev(const struct hdr *h); /* from the buckets */
/* The value at percentile p (0..100): the highest value equivalent to the
 * bucket holding the ceil(p/100*n)-th smallest sample, never above the
 * exact max (nor below the exact min).  0 when empty. */
uint64_t hdr_percentile(const struct hdr *h, double p);

/* Iterates over non-empty buckets in value order: *it starts at 0; each
 * call fills the bucket's lowest and highest equivalent values and its
 * count and returns 1, or returns 0 at the end. */
int hdr_next(const struct hdr *h, size_t *it, uint64_t *lo, uint64_t *hi, uint64_t *count);

/* Bucket arithmetic, exposed for the unit test. */
size_t hdr_index(uint64_t ns);
uint64_t hdr_lowest(size_t idx);
uint64_t hdr_highest(size_t idx);
size_t hdr_nbuckets(void);

#endif
