/* SPDX-License-Identifier: BSD-3-Clause */
/* ini_text.c - INI text fed to inih with line numbers (ini_text.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ini_text.h"

char *ep_ini_read_line(char *str, int num, void *stream)
{
	struct ep_ini_text *t = stream;
	const char *nl, *s;
	size_t n;

	if (!*t->text)
		return NULL;
	nl = strchr(t->text, '\n');
	n = nl ? (size_t)(nl - t->text) + 1 : strlen(t->text);
	if (n > (size_t)num - 1)
		n = (size_t)num - 1;
	memcpy(str, t->text, n);
	str[n] = '\0';
	t->text += n;
	t->line++;
	for (s = str; *s == ' ' || *s == '\t'; s++)
		;
	if (*s == '[') {
		t->sect_line = t->line;
		t->nsect++;
	}
	return str;
}

int ep_ini_read_file(const char *path, size_t max, char **out, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char *text;
	size_t n;
	int ret;

	*out = NULL;
	if (!fp) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	text = malloc(max + 1);
	if (!text) {
		fclose(fp);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	n = fread(text, 1, max + 1, fp);
	ret = ferror(fp) ? -EIO : 0;
	fclose(fp);
	if (ret < 0 || n > max || memchr(text, '\0', n)) {
		free(text);
		if (ret < 0)
			snprintf(err, errlen, "%s: read error", path);
		else if (n > max)
			snprintf(err, errlen, "%s: larger than %zu KiB", path, max >> 10);
		else
			snprintf(err, errlen, "%s: not a text file (a NUL byte)", path);
		return ret < 0 ? ret : -EINVAL;
	}
	text[n] = '\0';
	*out = text;
	return 0;
}
