// SPDX-License-Identifier: ISC
/* conf.c -- ims.conf (KEY=value) */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "sfile.h"
#include "xmalloc.h"
#include "banned.h"

struct conf_line {
	char	*key;		/* NULL for a comment or blank line */
	char	*text;		/* value, or the whole comment line */
};

struct conf {
	struct conf_line *lines;
	size_t	 n;
};

static struct conf *
conf_new(void)
{
	return xcalloc(1, sizeof(struct conf));
}

static void
conf_add(struct conf *c, char *key, char *text)
{
	c->lines = xreallocarray(c->lines, c->n + 1, sizeof(*c->lines));
	c->lines[c->n].key = key;
	c->lines[c->n].text = text;
	c->n++;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
conf_parse(const char *text, size_t len, const char *what, struct conf **out)
{
	struct conf *c;
	char *buf, *line, *next, *eq, *t;
	size_t lineno = 0;

	*out = NULL;
	if (memchr(text, '\0', len) != NULL) {
		log_warnx("%s: contains a NUL byte", what);
		return -1;
	}
	buf = xmalloc(len + 1);
	memcpy(buf, text, len);
	buf[len] = '\0';
	c = conf_new();
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		t = trim(line);
		if (*t == '\0' || *t == '#') {
			conf_add(c, NULL, xstrdup(line));
			continue;
		}
		if ((eq = strchr(t, '=')) == NULL || eq == t) {
			log_warnx("%s:%zu: expected KEY=value", what, lineno);
			conf_free(c);
			free(buf);
			return -1;
		}
		*eq = '\0';
		conf_add(c, xstrdup(trim(t)), xstrdup(trim(eq + 1)));
	}
	free(buf);
	*out = c;
	return 0;
}

int
conf_load(const char *path, struct conf **out)
{
	char *buf;
	size_t len;
	int rc;

	*out = NULL;
	if (sfile_read(path, SFILE_CAP, &buf, &len) == -1)
		return -1;
	rc = conf_parse(buf, len, path, out);
	free(buf);
	return rc;
}

void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->lines[i].key);
		free(c->lines[i].text);
	}
	free(c->lines);
	free(c);
}

const char *
conf_get(const struct conf *c, const char *key)
{
	size_t i;

	if (c == NULL)
		return NULL;
	for (i = 0; i < c->n; i++)
		if (c->lines[i].key != NULL && strcmp(c->lines[i].key, key) == 0)
			return c->lines[i].text;
	return NULL;
}
