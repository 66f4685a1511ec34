/* SPDX-License-Identifier: ISC */
/* fuzz.h -- what every libFuzzer harness of tests/fuzz/ shares */
#ifndef SFCA_FUZZ_H
#define SFCA_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/*
 * Each harness is one parser of outside bytes, fed the input exactly as
 * libFuzzer gives it (a heap buffer of that size, no NUL after it: a
 * parser that reads past len is caught by ASan).  Messages are silenced.
 */
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

#endif
