/* SPDX-License-Identifier: ISC */
/* version.h -- the suite's version, printed by every --version */
#ifndef SFCA_VERSION_H
#define SFCA_VERSION_H

#define SFCA_VERSION	"0.1"

#endif
