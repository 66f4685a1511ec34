// SPDX-License-Identifier: ISC
/* conf.c -- ims.conf (KEY=value) and sftunnel.conf (proxyssl block) */
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

struct conf *
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

void
conf_set(struct conf *c, const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->lines[i].key != NULL &&
		    strcmp(c->lines[i].key, key) == 0) {
			free(c->lines[i].text);
			c->lines[i].text = xstrdup(value);
			return;
		}
	conf_add(c, xstrdup(key), xstrdup(value));
}

int
conf_save(const struct conf *c, const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	size_t i;
	int rc;

	if ((f = open_memstream(&buf, &len)) == NULL) {
		log_warn("open_memstream");
		return -1;
	}
	for (i = 0; i < c->n; i++) {
		if (c->lines[i].key == NULL)
			fprintf(f, "%s\n", c->lines[i].text);
		else
			fprintf(f, "%s=%s\n", c->lines[i].key,
			    c->lines[i].text);
	}
	fclose(f);
	rc = sfile_write(path, buf, len, 0644);
	free(buf);
	return rc;
}

void
tunconf_release(struct tunconf *t)
{
	if (t == NULL)
		return;
	free(t->cert);
	free(t->key);
	free(t->cacert);
	free(t->crl);
	free(t->tls_version);
	memset(t, 0, sizeof(*t));
}

int
tunconf_load(const char *path, struct tunconf *t)
{
	char *buf, *line, *next, *s, *val, *end;
	size_t len, lineno = 0;
	int inblock = 0, seen = 0, rc = -1;
	const char *errstr;

	memset(t, 0, sizeof(*t));
	if (sfile_read(path, SFILE_CAP, &buf, &len) == -1)
		return -1;
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if (!inblock) {
			if (strncmp(s, "proxyssl", 8) == 0 &&
			    strchr(s, '{') != NULL) {
				inblock = seen = 1;
				continue;
			}
			continue;	/* other blocks are not ours */
		}
		if (strcmp(s, "};") == 0 || strcmp(s, "}") == 0) {
			inblock = 0;
			continue;
		}
		if ((end = strrchr(s, ';')) == NULL || end[1] != '\0') {
			log_warnx("%s:%zu: expected \"name value;\"", path,
			    lineno);
			goto out;
		}
		*end = '\0';
		val = s + strcspn(s, " \t");
		if (*val != '\0')
			*val++ = '\0';
		val = trim(val);
		if (*val == '\0') {
			log_warnx("%s:%zu: %s: missing value", path, lineno, s);
			goto out;
		}
		if (strcmp(s, "proxy_cert") == 0) {
			free(t->cert);
			t->cert = xstrdup(val);
		} else if (strcmp(s, "proxy_key") == 0) {
			free(t->key);
			t->key = xstrdup(val);
		} else if (strcmp(s, "proxy_cacert") == 0) {
			free(t->cacert);
			t->cacert = xstrdup(val);
		} else if (strcmp(s, "proxy_crl") == 0) {
			free(t->crl);
			t->crl = xstrdup(val);
		} else if (strcmp(s, "proxy_cipher") == 0) {
			t->cipher = (int)strtonum(val, 0, 1, &errstr);
			if (errstr != NULL) {
				log_warnx("%s:%zu: proxy_cipher %s", path,
				    lineno, errstr);
				goto out;
			}
		} else if (strcmp(s, "proxy_tls_version") == 0) {
			free(t->tls_version);
			t->tls_version = xstrdup(val);
		} else {
			log_warnx("%s:%zu: unknown setting %s", path, lineno,
			    s);
			goto out;
		}
	}
	if (!seen || inblock) {
		log_warnx("%s: %s", path, seen ? "unterminated proxyssl block" :
		    "no proxyssl block");
		goto out;
	}
	if (t->cert == NULL || t->key == NULL || t->cacert == NULL) {
		log_warnx("%s: proxyssl needs proxy_cert, proxy_key and "
		    "proxy_cacert", path);
		goto out;
	}
	rc = 0;
 out:
	free(buf);
	if (rc == -1)
		tunconf_release(t);
	return rc;
}
