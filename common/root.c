// SPDX-License-Identifier: ISC
/* root.c -- the appliance root and the FMC and FTD layouts under it */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "root.h"
#include "sfile.h"
#include "xmalloc.h"
#include "banned.h"

static char rootdir[PATH_MAX] = "/";

const char *const peerf_names[PEERF_NFILES] = {
	[PEERF_I_CACERT] = PEERF_CACERT,
	[PEERF_I_KEY] = PEERF_KEY,
	[PEERF_I_CERT] = PEERF_CERT
};
const mode_t peerf_modes[PEERF_NFILES] = {
	[PEERF_I_CACERT] = 0644,
	[PEERF_I_KEY] = 0600,
	[PEERF_I_CERT] = 0644
};

int
peerf_index(const char *name)
{
	int i;

	for (i = 0; i < PEERF_NFILES; i++)
		if (strcmp(name, peerf_names[i]) == 0)
			return i;
	return -1;
}

int
root_set(const char *dir)
{
	char buf[PATH_MAX];

	if (dir == NULL || *dir == '\0')
		dir = getenv("SFCA_ROOT");
	if (dir == NULL || *dir == '\0')
		dir = "/";
	if (realpath(dir, buf) == NULL) {
		log_warn("%s", dir);
		return -1;
	}
	if (!sfile_isdir(buf)) {
		log_warnx("%s: not a directory", dir);
		return -1;
	}
	strlcpy(rootdir, buf, sizeof(rootdir));
	return 0;
}

const char *
root_dir(void)
{
	return rootdir;
}

/* prefix + "/" + the formatted relative path, without doubled slashes. */
static char * __attribute__((format(printf, 2, 0)))
vjoin(const char *prefix, const char *fmt, va_list ap)
{
	char *rel, *p;

	if (vasprintf(&rel, fmt, ap) < 0)
		rel = NULL;
	if (rel == NULL)
		rel = xstrdup("");
	p = xasprintf("%s/%s", prefix, rel[0] == '/' ? rel + 1 : rel);
	free(rel);
	return p;
}

char *
root_path(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = vjoin(strcmp(rootdir, "/") == 0 ? "" : rootdir, fmt, ap);
	va_end(ap);
	return p;
}

char *
path_join(const char *dir, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = vjoin(dir, fmt, ap);
	va_end(ap);
	return p;
}

char *
root_apath(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = vjoin("", fmt, ap);
	va_end(ap);
	return p;
}

enum root_kind
root_kind(void)
{
	enum root_kind k = ROOT_UNKNOWN;
	struct conf *c = NULL;
	const char *type;
	char *p;

	p = root_path(RP_IMS_CONF);
	if (sfile_exists(p) && conf_load(p, &c) == 0 &&
	    (type = conf_get(c, "MODEL_TYPE")) != NULL) {
		if (strcmp(type, "CONSOLE") == 0)
			k = ROOT_FMC;
		else if (strcmp(type, "SENSOR") == 0)
			k = ROOT_FTD;
	}
	conf_free(c);
	free(p);
	if (k != ROOT_UNKNOWN)
		return k;
	p = root_path(RP_CA_DIR);
	if (sfile_isdir(p))
		k = ROOT_FMC;
	free(p);
	if (k != ROOT_UNKNOWN)
		return k;
	p = root_path("ngfw");
	if (sfile_isdir(p))
		k = ROOT_FTD;
	free(p);
	return k;
}
