// SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0)
/*
 * edgeprobe.bpf.c - the BPF side path: a TC classifier (ingress and egress)
 * that parses every TCP segment, tracks flows and records, per ASN, the same
 * counters and HDR histogram buckets as the userspace tracker, into per-CPU
 * maps double-buffered by an epoch the loader flips every window.
 *
 * Shared with the other probes, as the same source: the parser (ep_parse.h,
 * which reads headers through bpf_skb_load_bytes()/bpf_xdp_load_bytes() here),
 * the tracking rules and flow state (ep_track.h, ep_tcp.h), the flow key (ep_flow_key.h), the bucket math (ep_hdr.h), the counter ids
 * (ep_stats.h) and map layouts (ep_bpf.h).
 *
 * The same code also runs as an XDP program on ingress (edgeprobe-bpf --xdp),
 * with TC on egress.  Never drops or changes a packet: TC_ACT_UNSPEC (the hook's
 * later filters still see it, then the default action passes it), XDP_PASS.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "edgeprobe/ep_admit.h"
#include "edgeprobe/ep_bpf.h"
#include "edgeprobe/ep_flow_key.h"

#define TC_ACT_UNSPEC (-1)

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ep_bpf_cfg);
} ep_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ep_bpf_stats);
} ep_stats SEC(".maps");

/* A longest-prefix-match trie from addresses (struct ep_bpf_lpm4/6) to a u32. */
#define EP_LPM_TRIE(name, key_t, max)                                                              \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);                                               \
		__uint(max_entries, max);                                                          \
		__uint(map_flags, BPF_F_NO_PREALLOC);                                              \
		__type(key, key_t);                                                                \
		__type(value, __u32);                                                              \
	} name SEC(".maps")

/* --local-net. */
EP_LPM_TRIE(ep_local4, struct ep_bpf_lpm4, 1024);
EP_LPM_TRIE(ep_local6, struct ep_bpf_lpm6, 1024);

/*
 * The ASN tries, two pairs: a SIGHUP reload fills the pair not in use, then
 * flips cfg->asn_set.  The loader resizes them to the ASN data.
 */
EP_LPM_TRIE(ep_asn4, struct ep_bpf_lpm4, 2000000);
EP_LPM_TRIE(ep_asn6, struct ep_bpf_lpm6, 2000000);
EP_LPM_TRIE(ep_asn4b, struct ep_bpf_lpm4, 2000000);
EP_LPM_TRIE(ep_asn6b, struct ep_bpf_lpm6, 2000000);

/*
 * The epoch fence: no program uses it.  Replacing its one entry makes the
 * kernel wait for every BPF program running at that moment to finish (an
 * update of a map of maps ends with synchronize_rcu()), so after the loader
 * flips the epoch and replaces this entry, nothing writes the old epoch.
 */
struct ep_fence_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} ep_fence_inner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct ep_fence_inner);
} ep_fence SEC(".maps") = {
	.values = {[0] = &ep_fence_inner},
};

/* New and half-open flows: a SYN or ACK flood churns this table only. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ep_flow_key);
	__type(value, struct ep_bpf_flow);
} ep_flows_new SEC(".maps");

/* Flows that have been seen in both directions: the array (ep_bpf.h; the loader sizes it)... */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 262144);
	__type(key, __u32);
	__type(value, struct ep_bpf_fslot);
} ep_ftab SEC(".maps");

/* ... and the overflow hash, for those whose set in the array was full. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, struct ep_flow_key);
	__type(value, struct ep_bpf_flow);
} ep_flows SEC(".maps");

/* A new flow's first value, built here: off the programs' stack, which is at its limit. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ep_bpf_flow);
} ep_newflow SEC(".maps");

/* Per-ASN counters (ep_bpf.h): the per-CPU cache, one element per epoch... */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct ep_bpf_acache);
} ep_acache SEC(".maps");

/* ... and the counts moved out of it, a hash per epoch (the loader sizes them). */
#define EP_ACTR(name)                                                                              \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_PERCPU_HASH);                                            \
		__uint(max_entries, 65536);                                                        \
		__type(key, __u32);                                                                \
		__type(value, struct ep_bpf_counters);                                             \
	} name SEC(".maps")
EP_ACTR(ep_actr0);
EP_ACTR(ep_actr1);

/* The sample log (ep_bpf.h): mmapped by the loader, which sizes it to the CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct ep_bpf_sample);
} ep_slog SEC(".maps");

/* Histogram buckets, a hash per epoch, where the sample log has no room: the loader drains one
 * with batch operations. */
#define EP_HIST(name)                                                                              \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_PERCPU_HASH);                                            \
		__uint(max_entries, 262144);                                                       \
		__type(key, struct ep_bpf_hkey);                                                   \
		__type(value, __u64);                                                              \
	} name SEC(".maps")
EP_HIST(ep_hist0);
EP_HIST(ep_hist1);

/* The probe counters: one per-CPU element (an inlined array look-up). */
static __always_inline void stat_add(__u32 id, __u64 n)
{
	__u32 zero = 0;
	struct ep_bpf_stats *st = bpf_map_lookup_elem(&ep_stats, &zero);

	if (st && id < EP_BPF_NSTATS)
		st->c[id] += n;
}

/* ------------------------------------------------------------------------ */
/* Recording                                                                  */
/* ------------------------------------------------------------------------ */

/* The first value of a moved-counters entry (read-only data: off the small stack). */
static const struct ep_bpf_counters ep_zero_counters;

/* Move a cache slot's counts into the epoch's hash (the slot keeps its ASN). */
static __always_inline void spill(__u32 epoch, struct ep_bpf_aslot *s)
{
	void *map = epoch ? (void *)&ep_actr1 : (void *)&ep_actr0;
	struct ep_bpf_counters *c = bpf_map_lookup_elem(map, &s->asn);
	int k;

	if (!c) {
		if (bpf_map_update_elem(map, &s->asn, &ep_zero_counters, BPF_NOEXIST) < 0 &&
		    !bpf_map_lookup_elem(map, &s->asn)) {
			stat_add(EP_ST_bpf_map_full, 1);
			return;
		}
		c = bpf_map_lookup_elem(map, &s->asn);
		if (!c)
			return;
	}
	for (k = 0; k < EP_AC__COUNT; k++) {
		c->c[k] += s->c[k];
		s->c[k] = 0;
	}
}

/*
 * A global function: the verifier checks it once, not at each of the many
 * places the tracking rules count (its branches would multiply their states).
 */
__noinline int ep_count(__u32 epoch, __u32 asn, __u32 k, __u32 n)
{
	__u32 zero = 0, e = epoch & 1;
	const struct ep_bpf_cfg *cfg = bpf_map_lookup_elem(&ep_cfg, &zero);
	struct ep_bpf_acache *ac = bpf_map_lookup_elem(&ep_acache, &e);
	struct ep_bpf_aslot *s;

	if (!cfg || !ac || k >= EP_AC__COUNT)
		return 0;
	s = &ac->s[ep_bpf_acache_slot(asn) & (EP_BPF_ACACHE - 1)];
	if (s->live && s->asn != asn) {
		spill(e, s);
		stat_add(EP_ST_bpf_acache_spill, 1);
	}
	if (!s->live || s->asn != asn) {
		s->asn = asn;
		s->live = 1;
	}
	asm volatile("" : "+r"(k)); /* keep the mask: the verifier needs it, the compiler knows k < 7 */
	k &= EP_BPF_ASLOT_N - 1;
	if (s->c[k] >= 0x80000000u)
		spill(e, s);
	s->c[k] += n;
	return 0;
}

static __always_inline void count(const struct ep_bpf_cfg *cfg, __u32 asn, __u32 k, __u32 n)
{
	ep_count(cfg->epoch, asn, k, n);
}

/*
 * A sample into this CPU's region of the sample log for the current window:
 * @return 1, or 0 when the region is full (or the log is off, or the id does
 * not fit).  The region and its count follow the window generation, read
 * once: a flip between two reads of the configuration cannot pair one
 * window's region with another's count.
 */
static __always_inline int slog_put(const struct ep_bpf_cfg *cfg, struct ep_bpf_stats *st,
				    __u32 asn, __u32 hist, __u32 v, __u32 cnt)
{
	__u32 n = cfg->slog_n, gen = cfg->gen, r, i, at;
	struct ep_bpf_sample *s;

	if (!n || asn > EP_BPF_SLOG_MAX_ID)
		return 0;
	r = gen & 1;
	if (st->slog_gen[r] != gen) { /* the first sample of this window here */
		st->slog_gen[r] = gen;
		st->slog_pos[r] = 0;
	}
	i = st->slog_pos[r];
	if (i >= n)
		return 0;
	at = (bpf_get_smp_processor_id() * 2 + r) * n + i;
	s = bpf_map_lookup_elem(&ep_slog, &at);
	if (!s)
		return 0;
	s->id_hist = asn << 2 | (hist & 3);
	s->value = v;
	s->n = cnt;
	st->slog_pos[r] = i + 1;
	return 1;
}

/*
 * A histogram sample standing for cnt samples: into the sample log, else into
 * the epoch's bucket map (a constant map in each caller below).
 */
static __always_inline int record_into(void *map, __u32 asn, __u32 hist, __s64 v, __u32 cnt)
{
	struct ep_bpf_hkey key = {asn, hist, 0};
	__u32 zero = 0;
	const struct ep_bpf_cfg *cfg = bpf_map_lookup_elem(&ep_cfg, &zero);
	struct ep_bpf_stats *st = bpf_map_lookup_elem(&ep_stats, &zero);
	__u64 *n, first = cnt;

	if (!cfg || !st)
		return 0;
	if (v < 0)
		v = 0;
	if (v > cfg->hdr.highest) {
		stat_add(EP_ST_rtt_discarded, 1);
		return 0;
	}
	if (slog_put(cfg, st, asn, hist, (__u32)v, cnt))
		return 0;
	if (cfg->slog_n)
		stat_add(EP_ST_bpf_slog_full, 1);
	key.idx = ep_hdr_index(&cfg->hdr, v);
	n = bpf_map_lookup_elem(map, &key);
	if (n) {
		*n += cnt;
		return 0;
	}
	if (bpf_map_update_elem(map, &key, &first, BPF_NOEXIST) < 0) {
		n = bpf_map_lookup_elem(map, &key);
		if (n)
			*n += cnt;
		else
			stat_add(EP_ST_bpf_map_full, 1);
	}
	return 0;
}

/*
 * Global functions, as ep_count(), one per epoch: a map look-up whose map is
 * the same on every path is inlined by the verifier; one chosen at run time
 * would be a helper call.
 */
__noinline int ep_record0(__u32 asn, __u32 hist, __s64 v, __u32 cnt)
{
	return record_into(&ep_hist0, asn, hist, v, cnt);
}

__noinline int ep_record1(__u32 asn, __u32 hist, __s64 v, __u32 cnt)
{
	return record_into(&ep_hist1, asn, hist, v, cnt);
}

static __always_inline void record(const struct ep_bpf_cfg *cfg, __u32 asn, __u32 hist, __s64 v,
				   __u32 cnt)
{
	if (cfg->epoch & 1)
		ep_record1(asn, hist, v, cnt);
	else
		ep_record0(asn, hist, v, cnt);
}

static __always_inline int is_local(__u8 family, const __u8 *a)
{
	if (family == 4) {
		struct ep_bpf_lpm4 k = {32};

		__builtin_memcpy(k.addr, a, 4);
		return bpf_map_lookup_elem(&ep_local4, &k) != NULL;
	} else {
		struct ep_bpf_lpm6 k = {128};

		__builtin_memcpy(k.addr, a, 16);
		return bpf_map_lookup_elem(&ep_local6, &k) != NULL;
	}
}

static __always_inline __u32 asn_of(const struct ep_bpf_cfg *cfg, __u8 family, const __u8 *a)
{
	__u32 *asn;

	if (family == 4) {
		struct ep_bpf_lpm4 k = {32};

		__builtin_memcpy(k.addr, a, 4);
		asn = bpf_map_lookup_elem(cfg->asn_set ? (void *)&ep_asn4b : (void *)&ep_asn4, &k);
	} else {
		struct ep_bpf_lpm6 k = {128};

		__builtin_memcpy(k.addr, a, 16);
		asn = bpf_map_lookup_elem(cfg->asn_set ? (void *)&ep_asn6b : (void *)&ep_asn6, &k);
	}
	return asn ? *asn : 0;
}

/* ------------------------------------------------------------------------ */
/* The shared tracking rules (ep_track.h), recording into the epoch's maps     */
/* ------------------------------------------------------------------------ */

struct ep_track_env {
	const struct ep_bpf_cfg *cfg;
	__u32 asn; /* the flow's remote ASN */
	__u32 now; /* the packet's time (us) */
};

EP_INLINE void ep_track_sample(struct ep_track_env *env, __u32 hist, __u32 value, __u32 n)
{
	record(env->cfg, env->asn, hist, value, n);
}

EP_INLINE void ep_track_count(struct ep_track_env *env, __u32 ctr, __u32 n)
{
	count(env->cfg, env->asn, ctr, n);
}

EP_INLINE void ep_track_stat(struct ep_track_env *env, __u32 stat)
{
	stat_add(stat, 1);
}

/*
 * The packet's time, read at the start of every packet.  Read only when a rule
 * asks (most packets start or end no sample), a cold packet gained 8-16 % in
 * bpf_bench, but live the paced runs with timestamps cost more in 10 of 11
 * interleaved pairs, and again in 3 of 4 with the flow array (docs/performance.md):
 * not kept.
 */
EP_INLINE __u32 ep_track_now(struct ep_track_env *env)
{
	return env->now;
}

#include "edgeprobe/ep_track.h"

/* ------------------------------------------------------------------------ */
/* The established flows' array (ep_bpf.h)                                     */
/* ------------------------------------------------------------------------ */

static __always_inline int key_eq(const struct ep_flow_key *x, const struct ep_flow_key *y)
{
	const __u64 *a = (const __u64 *)x, *b = (const __u64 *)y;

	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4];
}

/* The slot holding key in its set (ways set and set + 1), or NULL. */
static __always_inline struct ep_bpf_fslot *ftab_find(const struct ep_flow_key *key, __u64 tag,
						       __u32 set)
{
	struct ep_bpf_fslot *sl;
	__u32 i = set;

	sl = bpf_map_lookup_elem(&ep_ftab, &i);
	if (sl && sl->tag == tag && key_eq(&sl->key, key))
		return sl;
	i = set + 1;
	sl = bpf_map_lookup_elem(&ep_ftab, &i);
	if (sl && sl->tag == tag && key_eq(&sl->key, key))
		return sl;
	return NULL;
}

/* A slot another flow may take: idle for EP_BPF_FTAB_IDLE_S, or closed and quiet. */
static __always_inline int ftab_stale(const struct ep_bpf_fslot *sl, __u32 sec)
{
	__u32 idle = sec - sl->seen;

	return idle >= EP_BPF_FTAB_IDLE_S ||
	       (sl->flow.tcp.state == EP_FS_CLOSED && idle >= EP_BPF_FTAB_CLOSED_S);
}

/*
 * A flow just established into its set: an empty way, else a stale one (that
 * flow ends as an idle timeout, unless it had closed).  @return 0, or -1 when
 * both ways hold live flows or another CPU claimed the way first.
 */
static __always_inline int ftab_insert(struct ep_track_env *env, const struct ep_flow_key *key,
				       __u64 tag, __u32 set, const struct ep_bpf_flow *fl, __u32 sec)
{
	struct ep_bpf_fslot *pick = NULL, *sl;
	__u64 old = 0, t;
	__u32 i, zero = 0;
	struct ep_bpf_stats *st;

	i = set;
	sl = bpf_map_lookup_elem(&ep_ftab, &i);
	if (sl) {
		t = *(volatile __u64 *)&sl->tag;
		if (!t || ftab_stale(sl, sec)) {
			pick = sl;
			old = t;
		}
	}
	if (!pick || old) { /* way 0 is not empty: way 1 if it is, or stale when way 0 is not */
		i = set + 1;
		sl = bpf_map_lookup_elem(&ep_ftab, &i);
		if (sl) {
			t = *(volatile __u64 *)&sl->tag;
			if (!t || (!pick && ftab_stale(sl, sec))) {
				pick = sl;
				old = t;
			}
		}
	}
	if (!pick || __sync_val_compare_and_swap(&pick->tag, old, tag) != old)
		return -1;
	if (!old) {
		st = bpf_map_lookup_elem(&ep_stats, &zero);
		if (st)
			st->ftab_used++;
	} else if (!(pick->flow.tcp.flags & EP_TF_FINAL)) {
		env->asn = pick->flow.asn;
		stat_add(EP_ST_flows_timeout, 1);
		ep_tcp_end(env, &pick->flow.tcp);
	}
	__builtin_memcpy(&pick->key, key, sizeof(*key));
	pick->seen = sec;
	__builtin_memcpy(&pick->flow, fl, sizeof(*fl));
	return 0;
}

/* Empty a slot (a new connection on its closed tuple), if it still holds tag. */
static __always_inline void ftab_free(struct ep_bpf_fslot *sl, __u64 tag)
{
	__u32 zero = 0;
	struct ep_bpf_stats *st;

	if (__sync_val_compare_and_swap(&sl->tag, tag, 0) != tag)
		return;
	st = bpf_map_lookup_elem(&ep_stats, &zero);
	if (st)
		st->ftab_used--;
}

/* Where a packet's flow was found. */
enum { EP_IN_FTAB, EP_IN_OVERFLOW, EP_IN_NEW };

/* One parsed segment: its flow found or created, then the tracking rules. */
static __always_inline int track_flow(struct ep_pkt *pkt, const struct ep_bpf_cfg *cfg,
				      __u32 segs, __u32 seg_bytes)
{
	struct ep_flow_key key;
	struct ep_bpf_flow *f, *nf;
	struct ep_bpf_fslot *sl;
	__u64 ns = bpf_ktime_get_ns(), h, tag;
	struct ep_track_env env = {cfg, 0, (__u32)(ns / 1000)};
	__u32 sec = (__u32)(ns >> 30), set;
	int s = ep_flow_key_make(pkt, &key), where = EP_IN_FTAB;
	__u32 zero = 0;

	if (segs > 1)
		stat_add(EP_ST_gso_packets, 1);
	h = ep_flow_key_hash(&key);
	set = (__u32)h & cfg->ftab_mask & ~1u;
	tag = h | 1;
	f = NULL;
	sl = ftab_find(&key, tag, set);
	if (sl) {
		f = &sl->flow;
		if (sl->seen != sec)
			sl->seen = sec;
	} else {
		where = EP_IN_OVERFLOW;
		f = bpf_map_lookup_elem(&ep_flows, &key);
		if (!f) {
			where = EP_IN_NEW;
			f = bpf_map_lookup_elem(&ep_flows_new, &key);
		}
	}
	if (f && f->tcp.state == EP_FS_CLOSED &&
	    (pkt->flags & (EP_TCP_SYN | EP_TCP_ACK)) == EP_TCP_SYN) {
		/* A new connection on a closed tuple. */
		if (where == EP_IN_FTAB)
			ftab_free(sl, tag);
		else
			bpf_map_delete_elem(where == EP_IN_OVERFLOW ? (void *)&ep_flows
								    : (void *)&ep_flows_new,
					    &key);
		f = NULL;
	}
	if (!f) {
		int a = -1, b = -1, syn = (pkt->flags & (EP_TCP_SYN | EP_TCP_ACK)) == EP_TCP_SYN;

		if (pkt->flags & EP_TCP_RST) {
			stat_add(EP_ST_rst_no_flow, 1);
			return 0;
		}
		if (syn)
			stat_add(EP_ST_syn_new, 1);
		nf = bpf_map_lookup_elem(&ep_newflow, &zero);
		if (!nf)
			return 0;
		__builtin_memset(nf, 0, sizeof(*nf));
		if (cfg->has_local) {
			a = is_local(key.family, key.addr_a);
			b = is_local(key.family, key.addr_b);
		}
		ep_tcp_init(&nf->tcp, ep_tcp_pick_remote(a, b, pkt, s, key.port_a, key.port_b));
		nf->asn = asn_of(cfg, key.family, nf->tcp.remote ? key.addr_b : key.addr_a);
		/* Under a SYN flood, new flows are admitted by sampling (ep_admit.h). */
		if ((pkt->flags & EP_TCP_SYN) &&
		    !ep_admit(h, cfg->syn_admit_level)) {
			if (syn) {
				stat_add(EP_ST_syn_unsampled, 1);
				count(cfg, nf->asn, EP_AC_syn_unsampled, 1);
			}
			return 0;
		}
		if (bpf_map_update_elem(&ep_flows_new, &key, nf, BPF_NOEXIST) < 0) {
			stat_add(EP_ST_bpf_map_full, 1);
			return 0;
		}
		f = bpf_map_lookup_elem(&ep_flows_new, &key);
		if (!f)
			return 0;
		where = EP_IN_NEW;
		stat_add(EP_ST_flows_created, 1);
		count(cfg, f->asn, EP_AC_flows_new, 1);
	}
	env.asn = f->asn;
	ep_tcp_segment(&env, &f->tcp, pkt, s, segs, seg_bytes);
	/*
	 * Heard from both sides past the SYNs: into the established flows, out of
	 * reach of floods (a spoofed SYN or a random ACK never gets an answer).
	 */
	if (where == EP_IN_NEW && f->tcp.state == EP_FS_ESTABLISHED) {
		if (ftab_insert(&env, &key, tag, set, f, sec) == 0) {
			bpf_map_delete_elem(&ep_flows_new, &key);
			stat_add(EP_ST_flows_promoted, 1);
		} else if (bpf_map_update_elem(&ep_flows, &key, f, BPF_ANY) == 0) {
			bpf_map_delete_elem(&ep_flows_new, &key);
			stat_add(EP_ST_flows_promoted, 1);
			stat_add(EP_ST_bpf_ftab_overflow, 1);
		}
	}
	return 0;
}

/*
 * A subprogram of its own.  Its return value is unused, so the compiler may
 * leave anything in r0, a stack address included, which the verifier refuses
 * at a subprogram's exit: r0 is cleared on the way out of every path.
 */
static __noinline int track(struct ep_pkt *pkt, const struct ep_bpf_cfg *cfg, __u32 segs,
			    __u32 seg_bytes)
{
	track_flow(pkt, cfg, segs, seg_bytes);
	asm volatile("r0 = 0" : : : "r0");
	return 0;
}

/* Parsing as subprograms of their own (their stack is not the caller's), one per context type. */
static __noinline enum ep_parse_res parse_skb(struct __sk_buff *skb, struct ep_pkt *pkt)
{
	/* A tag the kernel already took out of the frame (skb metadata) counts as one. */
	struct ep_frame fr = {skb, skb->len, 0, skb->vlan_present ? 1 : 0};

	return ep_parse_frame(&fr, pkt);
}

static __noinline enum ep_parse_res parse_xdp(struct xdp_md *ctx, struct ep_pkt *pkt)
{
	struct ep_frame fr = {ctx, (__u32)(ctx->data_end - ctx->data), 1, 0};

	return ep_parse_frame(&fr, pkt);
}

static __always_inline void handle(void *ctx, int xdp, __u32 segs, __u32 seg_bytes)
{
	__u32 zero = 0;
	const struct ep_bpf_cfg *cfg = bpf_map_lookup_elem(&ep_cfg, &zero);
	struct ep_pkt pkt;
	enum ep_parse_res res;

	if (!cfg)
		return;
	__builtin_memset(&pkt, 0, sizeof(pkt));
	res = xdp ? parse_xdp(ctx, &pkt) : parse_skb(ctx, &pkt);
	stat_add(EP_ST_packets, segs);
	stat_add(EP_ST_PARSE_OK + (__u32)res, segs);
	if (res == EP_PARSE_OK)
		track(&pkt, cfg, segs, seg_bytes);
}

static __always_inline int handle_skb(struct __sk_buff *skb)
{
	/* A GSO/GRO super-packet: its wire segments' count and payload size. */
	if (skb->gso_segs > 1)
		handle(skb, 0, skb->gso_segs, skb->gso_size);
	else
		handle(skb, 0, 1, 0);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int ep_tc_ingress(struct __sk_buff *skb)
{
	return handle_skb(skb);
}

SEC("tc")
int ep_tc_egress(struct __sk_buff *skb)
{
	return handle_skb(skb);
}

SEC("xdp")
int ep_xdp_ingress(struct xdp_md *ctx)
{
	handle(ctx, 1, 1, 0);
	return XDP_PASS;
}

/*
 * The flows_active gauge, its hash tables' part: their element counts (the
 * kernel keeps them per CPU, LRU evictions included); the loader adds the
 * flow array's (ep_bpf_stats.ftab_used).  Run by the loader once a window with
 * BPF_PROG_TEST_RUN; returns the count, or -1 where the kfunc is missing.
 */
extern __s64 bpf_map_sum_elem_count(const struct bpf_map *map) __ksym __weak;

SEC("syscall")
int ep_flow_count(void *ctx)
{
	if (!bpf_map_sum_elem_count)
		return -1;
	return (int)(bpf_map_sum_elem_count((const struct bpf_map *)&ep_flows) +
		     bpf_map_sum_elem_count((const struct bpf_map *)&ep_flows_new));
}
