/*
 * Linux 6.1 include/linux/crc-itu-t.h (lib/crc-itu-t.c, crc-itu-t.ko): polynomial 0x1021,
 * MSB first, no reflection, no final XOR; the initial value is the caller's.
 */
#ifndef CRC_ITU_T_H
#define CRC_ITU_T_H
#include <linux/types.h>

extern u16 const crc_itu_t_table[256];

extern u16 crc_itu_t(u16 crc, const u8 *buffer, size_t len);

static inline u16 crc_itu_t_byte(u16 crc, const u8 data)
{
	return (crc << 8) ^ crc_itu_t_table[((crc >> 8) ^ data) & 0xff];
}

#endif
