// SPDX-License-Identifier: GPL-2.0
/*
 * linuxcheck: proof that Debian's library modules compute right under Kobold.
 *
 * Built against Kobold's Linux 6.1 ABI headers (modules/linux61/include), loaded with the
 * 6.1 personality after Debian's crc7.ko, crc8.ko, crc16.ko, crc-itu-t.ko, crc64.ko,
 * libcurve25519-generic.ko, libpoly1305.ko, cifs_md4.ko and libarc4.ko, it calls their
 * exports and compares the results with published values:
 *
 * - CRC check values of "123456789" from the CRC RevEng catalogue
 *   (https://reveng.sourceforge.io/crc-catalogue/): CRC-7/MMC 0x75, CRC-8/SMBUS 0xF4,
 *   CRC-16/ARC 0xBB3D, CRC-16/XMODEM 0x31C3, CRC-16/IBM-3740 0x29B1,
 *   CRC-64/ECMA-182 0x6C40DF5F0B497347, CRC-64/NVME 0xAE8B14860A799888;
 * - RFC 7748 section 5.2 (X25519), RFC 8439 section 2.5.2 (Poly1305), RFC 1320 appendix
 *   A.5 (MD4 test suite), RFC 6229 section 2 (RC4 key 0x0102030405, offsets 0 and 16).
 *
 * docs/linux-compat.md ("Proof: linuxcheck") says how each maps to Linux's semantics;
 * modules/linux61/vectors.py recomputes every expected value on the host.
 * It prints "linuxcheck: <function>: pass" or "fail (got X, want Y)" per function, then a
 * summary, and returns 0 either way (the test reads the lines).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/crc7.h>
#include <linux/crc8.h>
#include <linux/crc16.h>
#include <linux/crc-itu-t.h>
#include <linux/crc64.h>
#include <crypto/curve25519.h>
#include <crypto/poly1305.h>
#include <crypto/arc4.h>
#include <crypto/md4.h>

static const u8 check[] = "123456789";
#define CHECK_LEN 9

static int passed, failed;

static void result(const char *fn, bool ok, const char *got, const char *want)
{
	if (ok) {
		passed++;
		pr_info("linuxcheck: %s: pass\n", fn);
	} else {
		failed++;
		pr_info("linuxcheck: %s: fail (got %s, want %s)\n", fn, got, want);
	}
}

static void check_u64(const char *fn, u64 got, u64 want)
{
	char g[24], w[24];

	snprintf(g, sizeof(g), "0x%llx", got);
	snprintf(w, sizeof(w), "0x%llx", want);
	result(fn, got == want, g, w);
}

static void hex(char *out, const u8 *b, unsigned int n)
{
	static const char digits[] = "0123456789abcdef";
	unsigned int i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = 0;
}

static int unhex(u8 *out, const char *s, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < 2 * n; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return -1;
		if (i % 2 == 0)
			out[i / 2] = v << 4;
		else
			out[i / 2] |= v;
	}
	return s[2 * n] ? -1 : 0;
}

/* Compares n bytes with the hex string want; one line per failure, none on success. */
static bool same(const char *fn, const u8 *got, const char *want, unsigned int n)
{
	char g[2 * 32 + 1];
	u8 w[32];

	if (n > 32 || unhex(w, want, n) || memcmp(got, w, n)) {
		hex(g, got, n > 32 ? 32 : n);
		pr_info("linuxcheck: %s: fail (got %s, want %s)\n", fn, g, want);
		return false;
	}
	return true;
}

static void check_crcs(void)
{
	static u8 table[CRC8_TABLE_SIZE];

	/* crc7_be keeps the 7-bit CRC left-aligned: CRC-7/MMC's 0x75 is 0xea. */
	check_u64("crc7_be", crc7_be(0, check, CHECK_LEN), 0x75 << 1);
	crc8_populate_msb(table, 0x07);
	check_u64("crc8", crc8(table, check, CHECK_LEN, 0), 0xf4);
	check_u64("crc16", crc16(0, check, CHECK_LEN), 0xbb3d);
	check_u64("crc_itu_t", crc_itu_t(0, check, CHECK_LEN), 0x31c3);
	check_u64("crc_itu_t(0xffff)", crc_itu_t(0xffff, check, CHECK_LEN), 0x29b1);
	check_u64("crc64_be", crc64_be(0, check, CHECK_LEN), 0x6c40df5f0b497347ULL);
	check_u64("crc64_rocksoft_generic", crc64_rocksoft_generic(0, check, CHECK_LEN),
		  0xae8b14860a799888ULL);
}

static void check_curve25519(void)
{
	static const struct {
		const char *scalar, *u, *out;
	} v[] = {
		{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
		{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
	};
	u8 scalar[CURVE25519_KEY_SIZE], u[CURVE25519_KEY_SIZE], out[CURVE25519_KEY_SIZE];
	bool ok = true;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		unhex(scalar, v[i].scalar, CURVE25519_KEY_SIZE);
		unhex(u, v[i].u, CURVE25519_KEY_SIZE);
		curve25519_generic(out, scalar, u);
		ok &= same("curve25519_generic", out, v[i].out, CURVE25519_KEY_SIZE);
	}
	if (ok)
		result("curve25519_generic", true, "", "");
	else
		failed++;
}

static void check_poly1305(void)
{
	static const char msg[] = "Cryptographic Forum Research Group";
	/* Bytes after the context: the library must not write past 6.1's struct. */
	static struct {
		struct poly1305_desc_ctx ctx;
		u8 guard[64];
	} d;
	u8 key[POLY1305_KEY_SIZE], tag[POLY1305_DIGEST_SIZE];
	unsigned int i;
	bool ok;

	unhex(key, "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b",
	      POLY1305_KEY_SIZE);
	memset(d.guard, 0x5a, sizeof(d.guard));
	poly1305_init_generic(&d.ctx, key);
	/* In two pieces, to go through the partial-block buffer. */
	poly1305_update_generic(&d.ctx, (const u8 *)msg, 5);
	poly1305_update_generic(&d.ctx, (const u8 *)msg + 5, sizeof(msg) - 1 - 5);
	poly1305_final_generic(&d.ctx, tag);
	ok = same("poly1305_generic", tag, "a8061dc1305136c6c22b8baf0c0127a9",
		  POLY1305_DIGEST_SIZE);
	for (i = 0; i < sizeof(d.guard); i++)
		if (d.guard[i] != 0x5a) {
			pr_info("linuxcheck: poly1305_generic: fail (wrote past struct poly1305_desc_ctx)\n");
			ok = false;
			break;
		}
	if (ok)
		result("poly1305_generic", true, "", "");
	else
		failed++;
}

static void check_md4(void)
{
	static const struct {
		const char *msg, *digest;
	} v[] = {
		{ "", "31d6cfe0d16ae931b73c59d7e0c089c0" },
		{ "a", "bde52cb31de33e46245e05fbdbd6fb24" },
		{ "abc", "a448017aaf21d8525fc10ae87aa6729d" },
		{ "message digest", "d9130a8164549fe818874806e1c7014b" },
		{ "abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		  "043f8582f241db351ce627e153e7f0e4" },
		{ "1234567890123456789012345678901234567890"
		  "1234567890123456789012345678901234567890",
		  "e33b4ddc9c38f2199c3e7b164fcc0536" },
	};
	struct md4_ctx ctx;
	u8 digest[MD4_DIGEST_SIZE];
	bool ok = true;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		if (cifs_md4_init(&ctx) ||
		    cifs_md4_update(&ctx, (const u8 *)v[i].msg, strlen(v[i].msg)) ||
		    cifs_md4_final(&ctx, digest)) {
			pr_info("linuxcheck: cifs_md4: fail (an error returned)\n");
			ok = false;
			continue;
		}
		ok &= same("cifs_md4", digest, v[i].digest, MD4_DIGEST_SIZE);
	}
	if (ok)
		result("cifs_md4", true, "", "");
	else
		failed++;
}

static void check_arc4(void)
{
	static const u8 key[] = { 1, 2, 3, 4, 5 };
	static struct arc4_ctx ctx;
	u8 zero[32], out[32];
	bool ok;

	memset(zero, 0, sizeof(zero));
	ok = arc4_setkey(&ctx, key, sizeof(key)) == 0;
	if (!ok)
		pr_info("linuxcheck: arc4: fail (arc4_setkey returned an error)\n");
	/* The keystream is the encryption of zeros; in two calls, as a stream. */
	arc4_crypt(&ctx, out, zero, 16);
	arc4_crypt(&ctx, out + 16, zero + 16, 16);
	ok &= same("arc4", out, "b2396305f03dc027ccc3524a0a1118a86982944f18fc82d589c403a47a0d0919",
		   32);
	if (ok)
		result("arc4", true, "", "");
	else
		failed++;
}

static int __init linuxcheck_init(void)
{
	check_crcs();
	check_curve25519();
	check_poly1305();
	check_md4();
	check_arc4();
	pr_info("linuxcheck: %d passed, %d failed\n", passed, failed);
	return 0;
}

static void __exit linuxcheck_exit(void)
{
	pr_info("linuxcheck: unloaded\n");
}

module_init(linuxcheck_init);
module_exit(linuxcheck_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("Kobold");
MODULE_DESCRIPTION("Checks Debian's library modules against published test vectors");
