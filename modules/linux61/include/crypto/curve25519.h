/* Linux 6.1 include/crypto/curve25519.h (lib/crypto/curve25519-fiat32.c, libcurve25519-generic.ko). */
#ifndef CURVE25519_H
#define CURVE25519_H
#include <linux/types.h>

enum curve25519_lengths {
	CURVE25519_KEY_SIZE = 32
};

extern const u8 curve25519_null_point[];
extern const u8 curve25519_base_point[];

void curve25519_generic(u8 out[CURVE25519_KEY_SIZE],
			const u8 scalar[CURVE25519_KEY_SIZE],
			const u8 point[CURVE25519_KEY_SIZE]);

#endif
