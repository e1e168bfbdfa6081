/*
 * Linux 6.1 drivers/media/dvb-frontends/lnbp21.h and the part of include/media/dvb_frontend.h
 * that lnbp21.ko touches. struct dvb_frontend (over 700 bytes, with struct dvb_frontend_ops
 * inside) is opaque here: the offsets of the fields lnbp21.ko writes are read from Debian's
 * lnbp21.ko (objdump -dr, lnbx2x_attach.constprop.0 and lnbp21_release): ops.release_sec at
 * +180, ops.set_tone +260, ops.set_voltage +264, ops.enable_high_lnb_voltage +268 (three
 * consecutive pointers of dvb_frontend_ops, in source order), sec_priv +564.
 */
#ifndef _LINUX61_LNBP21_H
#define _LINUX61_LNBP21_H

#include <linux/types.h>
#include <linux/i2c.h>

struct dvb_frontend;

#define DVB_FE_RELEASE_SEC 180
#define DVB_FE_SET_TONE 260
#define DVB_FE_SET_VOLTAGE 264
#define DVB_FE_ENABLE_HIGH_LNB_VOLTAGE 268
#define DVB_FE_SEC_PRIV 564

/* include/uapi/linux/dvb/frontend.h */
enum fe_sec_voltage {
	SEC_VOLTAGE_13,
	SEC_VOLTAGE_18,
	SEC_VOLTAGE_OFF
};

/* lnbp21.h: the control byte */
#define LNBP21_OLF 0x01
#define LNBP21_OTF 0x02
#define LNBP21_EN 0x04
#define LNBP21_VSEL 0x08
#define LNBP21_LLC 0x10
#define LNBP21_TEN 0x20
#define LNBP21_ISEL 0x40
#define LNBP21_PCL 0x80

extern struct dvb_frontend *lnbp21_attach(struct dvb_frontend *fe, struct i2c_adapter *i2c,
					  u8 override_set, u8 override_clear);

#endif
