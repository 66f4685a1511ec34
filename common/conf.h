/* SPDX-License-Identifier: ISC */
/* conf.h -- ims.conf (KEY=value) */
#ifndef SFCA_CONF_H
#define SFCA_CONF_H

#include <stddef.h>

/*
 * ims.conf: "KEY=value" lines, '#' comments and blank lines.  Spaces
 * around a line, a key and a value are not part of them; quotes are
 * (KEY="v" has the value "v" with its quotes).  A line that is neither,
 * or a NUL byte, is an error naming file and line.  The commands only
 * read it.  (sftunnel.conf no command reads; the lab's mktree writes it.)
 */
struct conf;

/*
 * Parse len bytes of text (not modified, need not be NUL-terminated);
 * what names it in messages ("what:line: expected KEY=value").  On
 * success *out is the conf, freed with conf_free.  -1 with one message.
 * This is the only reader of the format: every ims.conf, on the FMC or
 * as a device answers it, goes through it.
 */
int	conf_parse(const char *text, size_t len, const char *what,
	    struct conf **out);
/* The same from the file path (at most SFILE_CAP bytes). */
int	conf_load(const char *path, struct conf **out);
void	conf_free(struct conf *);
/* The value of key, owned by the conf; NULL when absent. */
const char *conf_get(const struct conf *, const char *key);

#endif
