/* SPDX-License-Identifier: BSD-3-Clause */
/* url.c - split a sink or listener URL into its scheme, host and port (or path). */
#include <errno.h>
#include <string.h>
#include <sys/un.h>

#include "url.h"

int ep_url_parse(const char *url, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *rest, *colon;
	int scheme;

	if (!strncmp(url, "udp://", 6)) {
		scheme = EP_URL_UDP;
		rest = url + 6;
	} else if (!strncmp(url, "tcp://", 6)) {
		scheme = EP_URL_TCP;
		rest = url + 6;
	} else if (!strncmp(url, "unix:", 5)) {
		rest = url + 5;
		if (!*rest || strlen(rest) >= hostlen || strlen(rest) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return -EINVAL;
		strcpy(host, rest);
		return EP_URL_UNIX;
	} else if (!strncmp(url, "file:", 5)) {
		rest = url + 5;
		if (!*rest || strlen(rest) >= hostlen)
			return -EINVAL;
		strcpy(host, rest);
		return EP_URL_FILE;
	} else {
		return -EINVAL;
	}
	if (rest[0] == '[') { /* [v6]:port */
		const char *close = strchr(rest, ']');

		if (!close || close[1] != ':' || (size_t)(close - rest - 1) >= hostlen)
			return -EINVAL;
		memcpy(host, rest + 1, (size_t)(close - rest - 1));
		host[close - rest - 1] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(rest, ':');
		if (!colon || (size_t)(colon - rest) >= hostlen || colon == rest)
			return -EINVAL;
		memcpy(host, rest, (size_t)(colon - rest));
		host[colon - rest] = '\0';
	}
	if (!colon[1] || strlen(colon + 1) >= portlen || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -EINVAL;
	strcpy(port, colon + 1);
	return scheme;
}
