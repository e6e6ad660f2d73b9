/* SPDX-License-Identifier: BSD-3-Clause */
/* query_report.c - edgeprobe-query report: a period's compliance report to stdout or a file. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "query.h"

/* yesterday / last-month (UTC) into a period; others are passed as given. @return 0, -1 */
static int resolve_period(const char *p, char *out, size_t n)
{
	time_t now = time(NULL);
	struct tm tm;

	if (!p) {
		fprintf(stderr, "edgeprobe-query: report: --period is required (2026-11, 2026-11-30, "
				"yesterday, last-month)\n");
		return -1;
	}
	if (!strcmp(p, "yesterday")) {
		now -= 86400;
		gmtime_r(&now, &tm);
		strftime(out, n, "%Y-%m-%d", &tm);
	} else if (!strcmp(p, "last-month")) {
		gmtime_r(&now, &tm);
		tm.tm_mday = 1;
		tm.tm_mon--;
		if (tm.tm_mon < 0) {
			tm.tm_mon = 11;
			tm.tm_year--;
		}
		strftime(out, n, "%Y-%m", &tm);
	} else {
		snprintf(out, n, "%s", p);
	}
	return 0;
}

/*
 * The report endpoint's body to stdout, or to DIR/edgeprobe-report-PERIOD[-SCOPE].EXT
 * (written to a temporary name and renamed: a reader never sees half a report).
 */
int ep_query_report(const struct client *cl, const char *period, const char *format,
		  const char *outdir, const char *country, const char *region, const char *probe)
{
	char per[32], path[1024], file[1200], tmp[1300], scope[80] = "";
	const char *ext = format ? format : "json";
	char *body = NULL;
	size_t len = 0, i;
	int status;
	FILE *fp;

	if (resolve_period(period, per, sizeof(per)) < 0)
		return 2;
	snprintf(path, sizeof(path), "/api/v1/report");
	if (ep_query_append(path, sizeof(path), "period", per) || ep_query_append(path, sizeof(path), "format", format) ||
	    ep_query_append_where(path, sizeof(path), country, region) ||
	    ep_query_append(path, sizeof(path), "probe", probe))
		return 2;
	status = ep_query_http_get(cl, path, &body, &len);
	if (status < 0)
		return 1;
	if (status != 200) {
		json_error_t jerr;
		json_t *j = json_loadb(body, len, 0, &jerr);
		const char *msg = j ? json_string_value(json_object_get(j, "error")) : NULL;

		fprintf(stderr, "edgeprobe-query: %s: HTTP %d: %s\n", path, status, msg ? msg : body);
		json_decref(j);
		free(body);
		return 1;
	}
	if (!outdir) {
		fwrite(body, 1, len, stdout);
		free(body);
		return 0;
	}
	/* The scope in the file name, as letters, digits and '-'. */
	snprintf(scope, sizeof(scope), "%s%s", region || country ? "-" : "",
		 region ? region : country ? country : "");
	for (i = 1; scope[i]; i++)
		if (!((scope[i] >= 'a' && scope[i] <= 'z') || (scope[i] >= 'A' && scope[i] <= 'Z') ||
		      (scope[i] >= '0' && scope[i] <= '9')))
			scope[i] = '-';
	snprintf(file, sizeof(file), "%s/edgeprobe-report-%s%s.%s", outdir, per, scope, ext);
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	fp = fopen(tmp, "w");
	if (fp) {
		int bad = fwrite(body, 1, len, fp) != len;

		bad |= fclose(fp) != 0;
		fp = bad ? NULL : fp;
	}
	if (!fp || rename(tmp, file) < 0) {
		fprintf(stderr, "edgeprobe-query: report: writing %s: %s\n", file, strerror(errno));
		unlink(tmp);
		free(body);
		return 1;
	}
	free(body);
	printf("%s\n", file);
	return 0;
}
