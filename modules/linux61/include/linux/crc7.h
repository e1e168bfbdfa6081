/*
 * Linux 6.1 include/linux/crc7.h (lib/crc7.c, crc7.ko). The CRC is kept left-aligned: the
 * 7-bit value in bits 7..1 of the u8 (polynomial x^7 + x^3 + 1, MSB first).
 */
#ifndef _LINUX61_CRC7_H
#define _LINUX61_CRC7_H
#include <linux/types.h>

extern const u8 crc7_be_syndrome_table[256];

static inline u8 crc7_be_byte(u8 crc, u8 data)
{
	return crc7_be_syndrome_table[crc ^ data];
}

extern u8 crc7_be(u8 crc, const u8 *buffer, size_t len);

#endif
