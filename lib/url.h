/* SPDX-License-Identifier: BSD-3-Clause */
/* url.h - the addresses probes send to and collectors listen on: udp://, tcp://, unix:, file:. */
#ifndef EP_URL_H
#define EP_URL_H

#include <stddef.h>

/* The transports a URL names. */
enum ep_url_scheme { EP_URL_UDP = 1, EP_URL_TCP, EP_URL_UNIX, EP_URL_FILE };

/*
 * Split "udp://host:port" / "tcp://host:port" / "unix:path" / "file:path".
 * @return the scheme (enum ep_url_scheme) or -EINVAL; host and port (or the
 *         path, in host) are copied out.
 */
int ep_url_parse(const char *url, char *host, size_t hostlen, char *port, size_t portlen);

#endif
