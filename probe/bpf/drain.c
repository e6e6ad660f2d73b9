/* SPDX-License-Identifier: BSD-3-Clause */
/* drain.c - one finished epoch of the BPF maps into per-ASN window aggregates. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "drain.h"
#include "edgeprobe.skel.h"
#include "edgeprobe/ep_bpf.h"
#include "edgeprobe/ep_flow_key.h"

#define BATCH_FIRST 1024
#define BATCH_MAX (1u << 20)

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The aggregate slot of a trie value (an id); a new slot gets its organisation name. */
static uint32_t slot_of(struct ep_bpf_drain *d, uint32_t id)
{
	uint32_t n = d->agg.nslots, s, asn;
	const char *org;

	if (id >= d->ids.n) {
		d->bad_id++;
		return d->agg.other;
	}
	if (d->ids.slot[id])
		return d->ids.slot[id] - 1;
	asn = d->ids.asn[id];
	s = ep_asn_agg_slot(&d->agg, asn, d->ids.cc[id], NULL);
	if (d->agg.nslots != n) {
		org = d->asn ? ep_asn_map_org(d->asn, asn) : NULL;
		d->agg.slots[s].org = org ? org : "";
	}
	if (s != d->agg.other)
		d->ids.slot[id] = s + 1;
	return s;
}

/* Batch buffers for entries of (at most) key_size and ncpu x value_size bytes. */
static int batch_grow(struct ep_bpf_drain *d, uint32_t n)
{
	size_t per_val = (size_t)d->ncpu * sizeof(struct ep_bpf_counters);
	void *k, *v;

	if (per_val < (size_t)d->ncpu * sizeof(uint64_t))
		per_val = (size_t)d->ncpu * sizeof(uint64_t);
	k = realloc(d->keys, (size_t)n * sizeof(struct ep_bpf_hkey));
	if (!k)
		return -ENOMEM;
	d->keys = k;
	v = realloc(d->vals, (size_t)n * per_val);
	if (!v)
		return -ENOMEM;
	d->vals = v;
	d->batch = n;
	return 0;
}

int ep_bpf_slog_size(struct edgeprobe_bpf *skel, uint32_t per_cpu)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t n;

	if (ncpu < 1)
		return ncpu < 0 ? ncpu : -EINVAL;
	n = (uint64_t)ncpu * 2 * per_cpu;
	if (!per_cpu || n > UINT32_MAX / sizeof(struct ep_bpf_sample))
		return -ERANGE;
	return bpf_map__set_max_entries(skel->maps.ep_slog, (uint32_t)n);
}

/* Map the sample log; one without two regions per CPU is left off. */
static int slog_map(struct ep_bpf_drain *d, struct edgeprobe_bpf *skel)
{
	uint32_t n = bpf_map__max_entries(skel->maps.ep_slog), per = n / (uint32_t)(d->ncpu * 2);
	long page = sysconf(_SC_PAGESIZE);
	void *m;

	if (!per)
		return 0;
	d->slog_bytes = ((size_t)n * sizeof(struct ep_bpf_sample) + (size_t)page - 1) &
			~((size_t)page - 1);
	m = mmap(NULL, d->slog_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(skel->maps.ep_slog), 0);
	if (m == MAP_FAILED)
		return -errno;
	d->slog = m;
	d->slog_n = per;
	return 0;
}

int ep_bpf_drain_init(struct ep_bpf_drain *d, struct edgeprobe_bpf *skel, uint32_t max_asns,
		      const struct ep_asn_map *asn, char *err, size_t errlen)
{
	struct ep_hdr_cfg hcfg;
	int ret;

	memset(d, 0, sizeof(*d));
	d->asn = asn;
	d->ncpu = libbpf_num_possible_cpus();
	if (d->ncpu < 1) {
		snprintf(err, errlen, "counting the possible CPUs: %s", strerror(-d->ncpu));
		return d->ncpu < 0 ? d->ncpu : -EINVAL;
	}
	ep_hdr_cfg_init(&hcfg, EP_HIST_DEFAULT_LOWEST, EP_HIST_DEFAULT_HIGHEST,
			EP_HIST_DEFAULT_DIGITS);
	ret = ep_asn_agg_init(&d->agg, max_asns, &hcfg);
	if (!ret)
		ret = ep_bpf_ids_init(&d->ids);
	d->cache = calloc((size_t)d->ncpu, sizeof(struct ep_bpf_acache));
	d->stats = calloc((size_t)d->ncpu, sizeof(struct ep_bpf_stats));
	if (ret < 0 || !d->cache || !d->stats || batch_grow(d, BATCH_FIRST) < 0) {
		snprintf(err, errlen, "the window aggregates for %u ASNs: %s", max_asns,
			 strerror(ret < 0 ? -ret : ENOMEM));
		ep_bpf_drain_fini(d);
		return ret < 0 ? ret : -ENOMEM;
	}
	d->fd_cfg = bpf_map__fd(skel->maps.ep_cfg);
	d->fd_stats = bpf_map__fd(skel->maps.ep_stats);
	d->fd_acache = bpf_map__fd(skel->maps.ep_acache);
	d->fd_actr[0] = bpf_map__fd(skel->maps.ep_actr0);
	d->fd_actr[1] = bpf_map__fd(skel->maps.ep_actr1);
	d->fd_hist[0] = bpf_map__fd(skel->maps.ep_hist0);
	d->fd_hist[1] = bpf_map__fd(skel->maps.ep_hist1);
	ret = slog_map(d, skel);
	if (ret < 0) {
		snprintf(err, errlen, "mapping the sample log: %s", strerror(-ret));
		ep_bpf_drain_fini(d);
		return ret;
	}
	return 0;
}

void ep_bpf_drain_fini(struct ep_bpf_drain *d)
{
	ep_asn_agg_fini(&d->agg);
	ep_bpf_ids_fini(&d->ids);
	free(d->cache);
	free(d->stats);
	free(d->keys);
	free(d->vals);
	if (d->slog)
		munmap(d->slog, d->slog_bytes);
	memset(d, 0, sizeof(*d));
}

void ep_bpf_drain_set_asn_map(struct ep_bpf_drain *d, const struct ep_asn_map *m)
{
	uint32_t i;

	d->asn = m;
	for (i = 0; i < d->agg.nslots; i++)
		if (d->agg.slots[i].asn != EP_ASN_OTHER) {
			const char *org = ep_asn_map_org(m, d->agg.slots[i].asn);

			d->agg.slots[i].org = org ? org : "";
		}
}

/* The per-CPU counter caches of epoch e: one read, one write of zeros. */
static long drain_cache(struct ep_bpf_drain *d, uint32_t e)
{
	struct ep_bpf_acache *c = d->cache;
	long n = 0;
	int cpu, i, k;

	if (bpf_map_lookup_elem(d->fd_acache, &e, c) < 0)
		return -errno;
	for (cpu = 0; cpu < d->ncpu; cpu++)
		for (i = 0; i < EP_BPF_ACACHE; i++) {
			const struct ep_bpf_aslot *s = &c[cpu].s[i];
			struct ep_asn_slot *a;

			if (!s->live)
				continue;
			/* A live slot marks its ASN active even when every count is zero. */
			a = ep_asn_agg_touch(&d->agg, slot_of(d, s->asn));
			for (k = 0; k < EP_AC__COUNT; k++)
				a->c[k] += s->c[k];
			n++;
		}
	if (n) {
		memset(c, 0, (size_t)d->ncpu * sizeof(*c));
		if (bpf_map_update_elem(d->fd_acache, &e, c, BPF_ANY) < 0)
			return -errno;
	}
	return n;
}

/* Every CPU's sample-log region of window generation gen into histograms. */
static long drain_slog(struct ep_bpf_drain *d, uint32_t gen)
{
	uint32_t r = gen & 1;
	const struct ep_bpf_stats *v = d->stats;
	long total = 0;
	int cpu;

	if (!d->slog)
		return 0;
	if (bpf_map_lookup_elem(d->fd_stats, &(uint32_t){0}, d->stats) < 0)
		return -errno;
	d->stats_read = 1;
	for (cpu = 0; cpu < d->ncpu; cpu++) {
		const struct ep_bpf_sample *l = d->slog + ((size_t)cpu * 2 + r) * d->slog_n;
		uint32_t n = v[cpu].slog_gen[r] == gen ? v[cpu].slog_pos[r] : 0, i;

		if (n > d->slog_n) { /* the programs never count past slog_n */
			d->hist_err++;
			n = d->slog_n;
		}
		for (i = 0; i < n; i++) {
			uint32_t hist = l[i].id_hist & 3;

			if (hist >= EP_AH__COUNT) {
				d->hist_err++;
				continue;
			}
			ep_asn_agg_record(&d->agg, slot_of(d, l[i].id_hist >> 2),
					  (enum ep_asn_hist)hist, l[i].value, l[i].n);
		}
		total += n;
	}
	return total;
}

typedef void (*entry_fn)(struct ep_bpf_drain *d, const void *key, const void *val);

/* Read and delete every entry of a per-CPU hash in batches; fn sees each. */
static long drain_hash(struct ep_bpf_drain *d, int fd, size_t key_size, size_t val_size,
		       entry_fn fn)
{
	uint64_t in = 0, out = 0;
	long total = 0;
	int first = 1;

	for (;;) {
		__u32 n = d->batch, i;
		int ret = bpf_map_lookup_and_delete_batch(fd, first ? NULL : &in, &out, d->keys,
							  d->vals, &n, NULL);

		if (ret < 0 && ret != -ENOENT) {
			if (ret == -ENOSPC && d->batch < BATCH_MAX && batch_grow(d, d->batch * 2) == 0)
				continue; /* a bucket larger than the buffer */
			return ret;
		}
		for (i = 0; i < n; i++)
			fn(d, (const uint8_t *)d->keys + i * key_size,
			   (const uint8_t *)d->vals + (size_t)i * d->ncpu * val_size);
		total += n;
		if (ret == -ENOENT)
			return total;
		in = out;
		first = 0;
	}
}

static void on_counters(struct ep_bpf_drain *d, const void *key, const void *val)
{
	const struct ep_bpf_counters *v = val;
	uint32_t slot = slot_of(d, *(const uint32_t *)key);
	int cpu, k;

	for (cpu = 0; cpu < d->ncpu; cpu++)
		for (k = 0; k < EP_AC__COUNT; k++)
			if (v[cpu].c[k])
				ep_asn_agg_count(&d->agg, slot, (enum ep_asn_counter)k, v[cpu].c[k]);
}

static void on_bucket(struct ep_bpf_drain *d, const void *key, const void *val)
{
	const struct ep_bpf_hkey *hk = key;
	const uint64_t *v = val;
	uint64_t sum = 0;
	struct ep_hbin b;
	int cpu;

	for (cpu = 0; cpu < d->ncpu; cpu++)
		sum += v[cpu];
	if (hk->hist >= EP_AH__COUNT || sum > UINT32_MAX) {
		d->hist_err++;
		return;
	}
	b.idx = hk->idx;
	b.count = (uint32_t)sum;
	if (sum && ep_asn_agg_add_bins(&d->agg, slot_of(d, hk->asn), (enum ep_asn_hist)hk->hist,
				       &b, 1) == -EINVAL)
		d->hist_err++;
}

long ep_bpf_drain_epoch(struct ep_bpf_drain *d, uint32_t e, uint32_t gen)
{
	uint64_t t0 = mono_ns();
	long a, b, c, l;

	e &= 1;
	a = drain_cache(d, e);
	l = drain_slog(d, gen);
	b = drain_hash(d, d->fd_actr[e], sizeof(uint32_t), sizeof(struct ep_bpf_counters),
		       on_counters);
	c = drain_hash(d, d->fd_hist[e], sizeof(struct ep_bpf_hkey), sizeof(uint64_t), on_bucket);
	d->last_ns = mono_ns() - t0;
	if (a < 0)
		return a;
	if (b < 0)
		return b;
	if (c < 0)
		return c;
	if (l < 0)
		return l;
	return a + b + c + l;
}

int ep_bpf_drain_stats(struct ep_bpf_drain *d, uint64_t *stats)
{
	const struct ep_bpf_stats *v = d->stats;
	uint32_t zero = 0, k;
	int cpu;

	if (!d->stats_read && bpf_map_lookup_elem(d->fd_stats, &zero, d->stats) < 0)
		return -errno;
	d->stats_read = 0;
	d->ftab_used = 0;
	for (cpu = 0; cpu < d->ncpu; cpu++)
		d->ftab_used += v[cpu].ftab_used;
	for (k = 0; k < EP_BPF_NSTATS; k++) {
		stats[k] = 0;
		for (cpu = 0; cpu < d->ncpu; cpu++)
			stats[k] += v[cpu].c[k];
	}
	return 0;
}

/*
 * End of run (programs detached): every flow still open ends here, with the
 * same rule as the other probes (ep_tcp_end: flows_closed and its retx_ppm).
 */
struct ep_track_env {
	struct ep_bpf_drain *d;
	uint64_t *stats;
	uint32_t slot;
};

EP_INLINE void ep_track_sample(struct ep_track_env *env, uint32_t hist, uint32_t value,
				uint32_t n)
{
	if (hist < EP_AH__COUNT)
		ep_asn_agg_record(&env->d->agg, env->slot, (enum ep_asn_hist)hist, value, n);
}

EP_INLINE void ep_track_count(struct ep_track_env *env, uint32_t ctr, uint32_t n)
{
	if (ctr < EP_AC__COUNT)
		ep_asn_agg_count(&env->d->agg, env->slot, (enum ep_asn_counter)ctr, n);
}

EP_INLINE void ep_track_stat(struct ep_track_env *env, uint32_t stat)
{
	env->stats[stat]++;
}

/* No packet here: ending a flow takes no time. */
EP_INLINE uint32_t ep_track_now(struct ep_track_env *env)
{
	(void)env;
	return 0;
}

#include "edgeprobe/ep_track.h"

static void end_flow(struct ep_bpf_drain *d, uint64_t *stats, struct ep_bpf_flow *f)
{
	struct ep_track_env env = {d, stats, slot_of(d, f->asn)};

	ep_tcp_end(&env, &f->tcp);
}

/* The flow array's flows, read in batches of FTAB_BATCH slots.  @return 0 or -errno */
#define FTAB_BATCH 1024

static int end_ftab(struct ep_bpf_drain *d, struct edgeprobe_bpf *skel, uint64_t *stats)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int fd = bpf_map__fd(skel->maps.ep_ftab), ret = 0, last = 0;
	uint32_t *keys = malloc(FTAB_BATCH * sizeof(*keys)), in = 0, out, n, i;
	struct ep_bpf_fslot *sl = malloc(FTAB_BATCH * sizeof(*sl));

	if (!keys || !sl) {
		ret = -ENOMEM;
		goto out;
	}
	while (!last) {
		n = FTAB_BATCH;
		if (bpf_map_lookup_batch(fd, in ? &in : NULL, &out, keys, sl, &n, &opts) < 0) {
			if (errno != ENOENT) {
				ret = -errno;
				break;
			}
			last = 1;
		}
		for (i = 0; i < n; i++)
			if (sl[i].tag)
				end_flow(d, stats, &sl[i].flow);
		in = out;
	}
out:
	free(keys);
	free(sl);
	return ret;
}

int ep_bpf_drain_end_flows(struct ep_bpf_drain *d, struct edgeprobe_bpf *skel, uint64_t *stats)
{
	int fds[2] = {bpf_map__fd(skel->maps.ep_flows), bpf_map__fd(skel->maps.ep_flows_new)};
	struct ep_flow_key k, next, *prev;
	struct ep_bpf_flow f;
	int i;

	for (i = 0; i < 2; i++)
		for (prev = NULL; bpf_map_get_next_key(fds[i], prev, &next) == 0; prev = &k) {
			k = next;
			if (bpf_map_lookup_elem(fds[i], &k, &f) == 0)
				end_flow(d, stats, &f);
		}
	return end_ftab(d, skel, stats);
}
