/* SPDX-License-Identifier: ISC */
/* version.h -- the suite's version and its manual's place, for --version and --help */
#ifndef SFCA_VERSION_H
#define SFCA_VERSION_H

#define SFCA_VERSION	"0.1"

/*
 * Where the hotfix installs the manual pages on the FMC.  man(1) finds
 * them only when /usr/local/sf/bin is on the PATH (man-db's PATH mapping),
 * which a root shell from `sudo su` may not have: so every --help ends
 * with SFCA_HELP_MAN, two ways that always work.  A MANPATH ending in ':'
 * keeps the system's pages as well (man-db).
 */
#define SFCA_MANDIR	"/usr/local/sf/share/man"
#define SFCA_HELP_MAN(name, sec)					\
	"Manual page on the FMC (" SFCA_MANDIR "):\n"			\
	"  man -l " SFCA_MANDIR "/man" sec "/" name "." sec "\n"		\
	"  or: MANPATH=" SFCA_MANDIR ": man " name "\n"

#endif
