/* SPDX-License-Identifier: BSD-3-Clause */
/* netset.c - CIDR list parsing and membership. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netset.h"

static int parse_one(struct ep_netset *s, const char *item)
{
	char buf[64], *slash, *end;
	long len;
	int fam, width, i;

	if (strlen(item) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, item);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	fam = strchr(buf, ':') ? 6 : 4;
	width = fam == 4 ? 32 : 128;
	memset(s->net[s->n].addr, 0, 16);
	if (inet_pton(fam == 4 ? AF_INET : AF_INET6, buf, s->net[s->n].addr) != 1)
		return -EINVAL;
	len = width;
	if (slash) {
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || len < 0 || len > width)
			return -EINVAL;
	}
	/* Clear host bits so that membership is a plain masked compare. */
	for (i = 0; i < 16; i++) {
		int keep = (int)len - 8 * i;

		if (keep <= 0)
			s->net[s->n].addr[i] = 0;
		else if (keep < 8)
			s->net[s->n].addr[i] &= (uint8_t)(0xff << (8 - keep));
	}
	s->net[s->n].family = (uint8_t)fam;
	s->net[s->n].len = (uint8_t)len;
	s->n++;
	return 0;
}

int ep_netset_parse(struct ep_netset *s, const char *list, char *err, size_t errlen)
{
	char *copy = strdup(list), *tok, *save = NULL;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (s->n == EP_NETSET_MAX) {
			snprintf(err, errlen, "more than %d networks", EP_NETSET_MAX);
			ret = -ENOSPC;
			break;
		}
		if (parse_one(s, tok) < 0) {
			snprintf(err, errlen, "'%s' is not an address or CIDR prefix", tok);
			ret = -EINVAL;
			break;
		}
	}
	free(copy);
	return ret;
}

int ep_netset_contains(const struct ep_netset *s, int family, const uint8_t *addr)
{
	uint32_t k;
	int i;

	for (k = 0; k < s->n; k++) {
		int len = s->net[k].len, match = 1;

		if (s->net[k].family != family)
			continue;
		for (i = 0; i < 16 && len > 0 && match; i++, len -= 8) {
			uint8_t mask = len >= 8 ? 0xff : (uint8_t)(0xff << (8 - len));

			match = (addr[i] & mask) == s->net[k].addr[i];
		}
		if (match)
			return 1;
	}
	return 0;
}
