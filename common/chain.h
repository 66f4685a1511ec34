/* SPDX-License-Identifier: ISC */
/* chain.h -- does a certificate chain to a CA, whatever the clock says */
#ifndef SFCA_CHAIN_H
#define SFCA_CHAIN_H

#include <openssl/x509.h>

/*
 * 1 when cert is issued by ca and its signature checks out with ca's key
 * (validity periods are not looked at: expiry is a separate fact), 0 when
 * not.  Nothing is reported and the OpenSSL error queue is left empty.
 * Neither object is consumed.
 */
int	chain_signed_by(X509 *cert, X509 *ca);

#endif
