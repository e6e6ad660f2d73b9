/* SPDX-License-Identifier: BSD-3-Clause */
/* history_load.c - refill the collector's roll-ups from the history after a restart. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "history.h"
#include "utf8.h"

#define MAX_RESTORE_PROBES 65536

struct load {
	struct ep_collector *c;
	const char *probe;
	struct ep_view *into; /* a view of its own (the players'), NULL: the collector's */
	uint32_t ti;          /* its tier of step */
	uint64_t step;
	long buckets;
	int err;
};

static int load_bucket(uint64_t start, uint64_t newest_end, uint64_t windows,
		       const struct ep_centry *e, uint32_t n, void *ctx)
{
	struct load *l = ctx;
	int ret = l->into ? ep_view_load(l->into, l->ti, start, newest_end, windows, e, n)
			  : ep_collector_restore(l->c, l->probe, l->step, start, newest_end, windows,
						 e, n);

	if (ret == 0)
		l->buckets++;
	else if (ret == -ENOMEM)
		l->err = ret;
	return l->err;
}

/* The tiers of 1 s and coarser of one view, coarsest first, each over the span its ring holds. */
static long load_view(struct ep_history *h, struct ep_collector *c, const char *probe,
		      const struct ep_view *v, struct ep_view *into)
{
	struct load l = {.c = c, .probe = probe, .into = into};
	const struct ep_read own = {.whose = EP_WHOSE_OWN};
	uint32_t mask = ep_collector_persist_tiers(v, c->cfg.persist_min_ns);
	int t;

	for (t = (int)v->ntiers - 1; t >= 0; t--) {
		uint64_t step = v->t[t].step_ns, span = (uint64_t)v->t[t].count * step;
		uint64_t oldest, newest, from;
		long n;

		if (!(mask >> t & 1) || ep_history_bounds(h, probe, step, EP_WHOSE_OWN, &oldest, &newest) < 0)
			continue;
		from = newest + step > span ? newest + step - span : 0;
		/*
		 * From the start of the next tier's window: a coarser window that this
		 * tier rolls up into after the restart (the history has none of it yet, as
		 * after a coarser step is added) gets all of its part, never a partial
		 * sum.  The ring is exceeded by less than one coarser window: its oldest
		 * buckets are rolled up (or freed, if already rolled up) as they go.
		 */
		if (t + 1 < (int)v->ntiers)
			from -= from % v->t[t + 1].step_ns;
		l.step = step;
		l.ti = (uint32_t)t;
		n = ep_history_read(h, probe, step, from > oldest ? from : oldest, newest + step, &own,
				    load_bucket, &l);
		if (n < 0)
			return n;
		if (l.err)
			return l.err;
	}
	return l.buckets;
}

struct probes {
	char (*id)[EP_WIRE_PROBE_MAX + 1];
	uint32_t n;
};

static int add_probe(const char *probe, void *ctx)
{
	struct probes *p = ctx;
	size_t len = probe ? strlen(probe) : 0;

	if (!len || len > EP_WIRE_PROBE_MAX || !ep_utf8_valid(probe, len) || probe[0] == '@')
		return 0; /* the all-probes view, the players' (@qoe), or no probe's name: skipped */
	if (p->n >= MAX_RESTORE_PROBES)
		return 1;
	memcpy(p->id[p->n++], probe, len + 1);
	return 0;
}

static void load_org(uint32_t asn, const char *org, void *ctx)
{
	ep_collector_set_org(ctx, asn, org);
}

long ep_history_restore(struct ep_history *h, struct ep_collector *c)
{
	struct probes ps = {0};
	long total, n;
	uint32_t i, top = c->cfg.probe_ntiers;

	n = ep_history_orgs(h, load_org, c);
	if (n < 0)
		return n;

	total = load_view(h, c, EP_HISTORY_ALL, &c->all, NULL);
	if (total < 0 || !top)
		return total;
	ps.id = calloc(c->cfg.max_probes, sizeof(*ps.id));
	if (!ps.id)
		return -ENOMEM;
	/* The probes heard within the coarsest per-probe tier's span, at most the table's size. */
	{
		uint64_t step = c->cfg.probe_steps[top - 1], oldest, newest;
		uint64_t span = (uint64_t)c->cfg.probe_counts[top - 1] * step;

		if (ep_history_bounds(h, EP_HISTORY_ALL, step, EP_WHOSE_OWN, &oldest, &newest) == 0)
			ep_history_probes(h, step, newest > span ? newest - span : 0, add_probe, &ps);
	}
	for (i = 0; i < ps.n && i < c->cfg.max_probes; i++) {
		struct ep_cprobe *p;

		if (c->cfg.allow) {
			const char *const *a;

			for (a = c->cfg.allow; *a && strcmp(*a, ps.id[i]); a++)
				;
			if (!*a)
				continue;
		}
		p = ep_collector_probe_add(c, ps.id[i]);
		if (!p || !p->view)
			continue;
		n = load_view(h, c, ps.id[i], p->view, NULL);
		if (n < 0) {
			total = n;
			break;
		}
		total += n;
	}
	free(ps.id);
	return total;
}

long ep_history_restore_view(struct ep_history *h, struct ep_collector *c, const char *name,
			     struct ep_view *v)
{
	return load_view(h, c, name, v, v);
}
