/*
 * Linux 6.1 include/crypto/poly1305.h and include/crypto/internal/poly1305.h
 * (lib/crypto/poly1305.c and poly1305-donna32.c, libpoly1305.ko).
 * CONFIG_CRYPTO_LIB_POLY1305_RSIZE is 9 on ARM (lib/crypto/Kconfig).
 */
#ifndef _CRYPTO_POLY1305_H
#define _CRYPTO_POLY1305_H
#include <linux/types.h>

#define POLY1305_BLOCK_SIZE 16
#define POLY1305_KEY_SIZE 32
#define POLY1305_DIGEST_SIZE 16
#define CONFIG_CRYPTO_LIB_POLY1305_RSIZE 9

struct poly1305_key {
	union {
		u32 r[5];
		u64 r64[3];
	};
};

struct poly1305_core_key {
	struct poly1305_key key;
	struct poly1305_key precomputed_s;
};

struct poly1305_state {
	union {
		u32 h[5];
		u64 h64[3];
	};
};

struct poly1305_desc_ctx {
	/* partial buffer */
	u8 buf[POLY1305_BLOCK_SIZE];
	/* bytes used in partial buffer */
	unsigned int buflen;
	/* how many keys have been set in r[] */
	unsigned short rset;
	/* whether s[] has been set */
	bool sset;
	/* finalize key */
	u32 s[4];
	/* accumulator */
	struct poly1305_state h;
	/* key */
	union {
		struct poly1305_key opaque_r[CONFIG_CRYPTO_LIB_POLY1305_RSIZE];
		struct poly1305_core_key core_r;
	};
};

void poly1305_init_generic(struct poly1305_desc_ctx *desc, const u8 key[POLY1305_KEY_SIZE]);
void poly1305_update_generic(struct poly1305_desc_ctx *desc, const u8 *src, unsigned int nbytes);
void poly1305_final_generic(struct poly1305_desc_ctx *desc, u8 *digest);

#endif
