/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ini_text.h - INI files for inih with line numbers: the file is read once
 * (bounded, text only) and fed to ini_parse_stream() line by line, counting
 * lines and [section] headers, so that a handler can name the line it refuses.
 */
#ifndef EP_INI_TEXT_H
#define EP_INI_TEXT_H

#include <stddef.h>

struct ep_ini_text {
	const char *text;   /* the reader's position */
	unsigned line;      /* of the line last read */
	unsigned sect_line; /* of the newest [section] header */
	unsigned nsect;     /* [section] headers read */
};

/* inih's reader (ini_reader); stream is a struct ep_ini_text. */
char *ep_ini_read_line(char *str, int num, void *stream);

/*
 * Read path (at most max bytes, no NUL byte) into *out (malloc'ed, NUL-terminated).
 * @return 0, or -errno / -EINVAL with err as "PATH: reason".
 */
int ep_ini_read_file(const char *path, size_t max, char **out, char *err, size_t errlen);

#endif
