/* SPDX-License-Identifier: BSD-3-Clause */
/* config.c - INI configuration files applied through the command-line handlers. */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config.h"

/* A copy of v in the store, or NULL when it is full. */
static char *keep(struct ep_config_store *st, const char *v)
{
	size_t n = strlen(v) + 1;
	char *c;

	if (n > sizeof(st->buf) - st->used)
		return NULL;
	c = st->buf + st->used;
	memcpy(c, v, n);
	st->used += n;
	return c;
}

struct load {
	struct ep_config_store *st;
	const char *program;
	const struct option *opts;
	const int *skip;
	int nskip;
	ep_config_set_cb set;
	void *ctx;
	char msg[400];
	int failed;
};

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct load *l = user;
	const struct option *o;
	char err[300] = "";
	int i, ret;

	if (l->failed)
		return 0;
	if (section[0] && strcmp(section, l->program) && strcmp(section, "probe") &&
	    strcmp(section, "collector"))
		return 1; /* another program's section */
	if (!strcmp(name, "config")) {
		snprintf(l->msg, sizeof(l->msg), "'config' cannot be set in a configuration file");
		l->failed = 1;
		return 0;
	}
	for (o = l->opts; o->name; o++)
		if (!strcmp(o->name, name))
			break;
	if (!o->name || !strcmp(name, "help") || !strcmp(name, "version")) {
		snprintf(l->msg, sizeof(l->msg), "unknown key '%s'", name);
		l->failed = 1;
		return 0;
	}
	for (i = 0; i < l->nskip; i++)
		if (l->skip[i] == o->val)
			return 1; /* the command line says otherwise */
	if (o->has_arg == no_argument) {
		if (!strcasecmp(value, "false") || !strcasecmp(value, "no") || !strcmp(value, "0"))
			return 1;
		if (strcasecmp(value, "true") && strcasecmp(value, "yes") && strcmp(value, "1")) {
			snprintf(l->msg, sizeof(l->msg), "'%s' takes true or false, not '%s'", name, value);
			l->failed = 1;
			return 0;
		}
		value = NULL;
	}
	/* Handlers keep pointers to their arguments (as to argv): a copy in the caller's store. */
	if (value && !(value = keep(l->st, value))) {
		snprintf(l->msg, sizeof(l->msg), "the values add up to more than %zu bytes",
			 sizeof(l->st->buf));
		l->failed = 1;
		return 0;
	}
	ret = l->set(o->val, value, l->ctx, err, sizeof(err));
	if (ret != 0) {
		snprintf(l->msg, sizeof(l->msg), "%s", ret > 0 ? "not allowed here" : err);
		l->failed = 1;
		return 0;
	}
	return 1;
}

int ep_config_load(struct ep_config_store *st, const char *file, const char *program,
		   const struct option *opts, const int *skip, int nskip, ep_config_set_cb set,
		   void *ctx, char *err, size_t errlen)
{
	struct load l = {st, program, opts, skip, nskip, set, ctx, "", 0};
	FILE *fp = fopen(file, "r");
	struct stat sb;
	int ret;

	if (!fp) {
		ret = -errno;
		snprintf(err, errlen, "--config %s: %s", file, strerror(errno));
		return ret;
	}
	/* A directory or a device (/dev/zero) would be read as empty or forever. */
	if (fstat(fileno(fp), &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > EP_CONFIG_MAX_BYTES) {
		fclose(fp);
		snprintf(err, errlen, "--config %s: not a regular file of at most %d bytes", file,
			 EP_CONFIG_MAX_BYTES);
		return -EINVAL;
	}
	ret = ini_parse_file(fp, handler, &l);
	fclose(fp);
	if (ret == -2) {
		snprintf(err, errlen, "--config %s: out of memory", file);
		return -ENOMEM;
	}
	if (ret > 0) {
		snprintf(err, errlen, "%s:%d: %s", file, ret, l.msg[0] ? l.msg : "syntax error");
		return -EINVAL;
	}
	return 0;
}

const char *ep_config_arg(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			return argv[i + 1];
		if (!strncmp(argv[i], "--config=", 9))
			return argv[i] + 9;
	}
	return NULL;
}

int ep_parse_u32_arg(const char *flag, const char *arg, uint32_t min, uint32_t max, uint32_t *out,
		     char *err, size_t errlen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < min || v > max) {
		snprintf(err, errlen, "--%s: '%s' is not a whole number from %u to %u", flag, arg,
			 min, max);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}
