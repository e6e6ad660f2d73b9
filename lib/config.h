/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config.h - configuration files equivalent to the command line: INI
 * (inih), "key = value" where a key is a long option's name, optionally under
 * a [section] named after the program; "true"/"yes"/"1" for flags.  Options
 * given on the command line win: their file entries are not applied.
 */
#ifndef EP_CONFIG_H
#define EP_CONFIG_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

/* Apply one option: @return 0, 1 to stop (help), or < 0 with err filled. */
typedef int (*ep_config_set_cb)(int id, const char *arg, void *ctx, char *err, size_t errlen);

/* Largest configuration file read. */
#define EP_CONFIG_MAX_BYTES (1 << 20)

/*
 * Copies of a file's values: option handlers keep pointers to their arguments
 * (as to argv), so the store lives beside the options it fills, as long as
 * they do.  No allocation: a file whose values do not fit is refused.
 */
struct ep_config_store {
	char buf[16384];
	size_t used;
};

/*
 * Apply FILE's entries for the options in opts (NULL-terminated), skipping
 * those whose ids are in skip.  program: the section that applies besides
 * the unnamed one.
 * @return 0, or < 0 with err as "FILE:LINE: reason" (unknown key, bad value,
 *         unreadable file).
 */
int ep_config_load(struct ep_config_store *st, const char *file, const char *program,
		   const struct option *opts, const int *skip, int nskip, ep_config_set_cb set,
		   void *ctx, char *err, size_t errlen);

/*
 * Parse an unsigned integer flag argument within [min, max] (flag without its
 * dashes; every program's numbers go through here). @return 0 or -EINVAL.
 */
int ep_parse_u32_arg(const char *flag, const char *arg, uint32_t min, uint32_t max, uint32_t *out,
		     char *err, size_t errlen);

/* The value of --config FILE / --config=FILE in argv, or NULL. */
const char *ep_config_arg(int argc, char **argv);

#endif
