// SPDX-License-Identifier: GPL-2.0
/*
 * i2ccheck: proof that Kobold's I2C core (i2c_transfer, __i2c_transfer: Linux 6.1's
 * drivers/i2c/i2c-core-base.c) works, and that a Debian I2C chip driver runs on it.
 *
 * A mock adapter (struct i2c_adapter at Debian's armmp offsets, modules/linux61/include/
 * linux/i2c.h) has an algorithm whose master_xfer records every message and answers reads
 * with canned bytes, and lock operations that count lock/unlock. The module checks:
 *
 * - i2c_transfer of a write+read pair: 2 returned, the read buffer filled, the bus locked
 *   once with I2C_LOCK_SEGMENT around the transfer (master_xfer runs with it held);
 * - -EAGAIN (arbitration lost) is retried up to adap->retries more times; another errno is
 *   returned as is; a retries of 0 tries once;
 * - no master_xfer: -EOPNOTSUPP, the bus not locked;
 * - the adapter's quirks (max_write_len, I2C_AQ_NO_ZERO_LEN_READ): -EOPNOTSUPP, the
 *   algorithm not called;
 * - an adapter marked suspended (locked_flags bit 0): -ESHUTDOWN, and bit 1 set (reported);
 * - Debian's lnbp21.ko (drivers/media/dvb-frontends/lnbp21.c), driven through its exported
 *   lnbp21_attach and the ops it installs, writes LNBP21's control byte to address 0x08 as
 *   lnbp21.c says: attach writes LNBP21_ISEL (0x40) with override_set/clear applied,
 *   set_voltage(18 V) 0x4c (EN|VSEL), set_voltage(13 V) 0x44 (EN), release_sec 0x40; a
 *   failing bus makes attach return NULL, one lost arbitration is retried by the core.
 *
 * It prints "i2ccheck: <name>: pass" or "fail (...)" per check, then a summary, and returns
 * 0 either way (the test reads the lines).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/i2c.h>
#include <media/lnbp21.h>

#define EIO 5
#define EAGAIN 11
#define EINVAL 22
#define EOPNOTSUPP 95
#define ESHUTDOWN 108

static int passed, failed;

static void result(const char *name, bool ok, int got, int want)
{
	if (ok) {
		passed++;
		pr_info("i2ccheck: %s: pass\n", name);
	} else {
		failed++;
		pr_info("i2ccheck: %s: fail (got %d, want %d)\n", name, got, want);
	}
}

/* --- the mock adapter ---------------------------------------------------- */

#define MAX_LOG 8

static struct {
	int calls; /* master_xfer calls */
	int nmsgs; /* messages logged */
	u16 addr[MAX_LOG], flags[MAX_LOG], len[MAX_LOG];
	u8 byte0[MAX_LOG]; /* first byte written */
	int locks, unlocks, lock_flags, held, xfer_unlocked;
	int eagain; /* answer -EAGAIN this many times first */
	int fail; /* then this errno, if non-zero */
} mock;

static void mock_reset(void)
{
	memset(&mock, 0, sizeof(mock));
}

static int mock_xfer(struct i2c_adapter *adap, struct i2c_msg *msgs, int num)
{
	int i, j;

	mock.calls++;
	if (!mock.held)
		mock.xfer_unlocked++;
	if (mock.eagain > 0) {
		mock.eagain--;
		return -EAGAIN;
	}
	if (mock.fail)
		return -mock.fail;
	for (i = 0; i < num; i++) {
		if (mock.nmsgs < MAX_LOG) {
			mock.addr[mock.nmsgs] = msgs[i].addr;
			mock.flags[mock.nmsgs] = msgs[i].flags;
			mock.len[mock.nmsgs] = msgs[i].len;
			mock.byte0[mock.nmsgs] = !(msgs[i].flags & I2C_M_RD) && msgs[i].len ? msgs[i].buf[0] : 0;
			mock.nmsgs++;
		}
		if (msgs[i].flags & I2C_M_RD)
			for (j = 0; j < msgs[i].len; j++)
				msgs[i].buf[j] = 0xa0 + j; /* the canned answer */
	}
	return num;
}

static void mock_lock(struct i2c_adapter *adap, unsigned int flags)
{
	mock.locks++;
	mock.held++;
	mock.lock_flags = flags;
}

static int mock_trylock(struct i2c_adapter *adap, unsigned int flags)
{
	mock_lock(adap, flags);
	return 1;
}

static void mock_unlock(struct i2c_adapter *adap, unsigned int flags)
{
	mock.unlocks++;
	mock.held--;
}

static const struct i2c_algorithm mock_algo = { .master_xfer = mock_xfer };
static const struct i2c_algorithm no_xfer_algo = { .master_xfer = NULL };
static const struct i2c_lock_operations mock_lock_ops = {
	.lock_bus = mock_lock,
	.trylock_bus = mock_trylock,
	.unlock_bus = mock_unlock,
};

static struct i2c_adapter adap;

static void adap_reset(void)
{
	memset(&adap, 0, sizeof(adap));
	adap.algo = &mock_algo;
	adap.lock_ops = &mock_lock_ops;
	adap.retries = 3;
	adap.timeout = 250; /* HZ */
	adap.nr = 7;
	mock_reset();
}

/* --- the core ------------------------------------------------------------ */

static void check_core(void)
{
	u8 reg = 0x1a, val[3] = { 0, 0, 0 };
	struct i2c_msg rw[2] = {
		{ .addr = 0x50, .flags = 0, .len = 1, .buf = &reg },
		{ .addr = 0x50, .flags = I2C_M_RD, .len = 3, .buf = val },
	};
	static const struct i2c_adapter_quirks q = {
		.flags = I2C_AQ_NO_ZERO_LEN_READ,
		.max_write_len = 1,
	};
	int ret;

	adap_reset();
	ret = i2c_transfer(&adap, rw, 2);
	result("i2c_transfer write+read", ret == 2 && mock.calls == 1 && mock.nmsgs == 2 &&
		mock.addr[0] == 0x50 && mock.flags[0] == 0 && mock.len[0] == 1 &&
		mock.byte0[0] == 0x1a && mock.flags[1] == I2C_M_RD && mock.len[1] == 3 &&
		val[0] == 0xa0 && val[1] == 0xa1 && val[2] == 0xa2, ret, 2);
	result("bus locked around master_xfer", mock.locks == 1 && mock.unlocks == 1 &&
		mock.lock_flags == I2C_LOCK_SEGMENT && mock.held == 0 && mock.xfer_unlocked == 0,
		mock.locks * 100 + mock.unlocks * 10 + mock.lock_flags, 112);

	adap_reset();
	mock.eagain = 2;
	ret = i2c_transfer(&adap, rw, 2);
	result("retried on -EAGAIN", ret == 2 && mock.calls == 3, mock.calls, 3);

	adap_reset();
	adap.retries = 1;
	mock.eagain = 5;
	ret = i2c_transfer(&adap, rw, 2);
	result("retries exhausted", ret == -EAGAIN && mock.calls == 2, mock.calls, 2);

	adap_reset();
	adap.retries = 0;
	mock.eagain = 1;
	ret = i2c_transfer(&adap, rw, 2);
	result("retries 0 tries once", ret == -EAGAIN && mock.calls == 1, mock.calls, 1);

	adap_reset();
	mock.fail = EIO;
	ret = i2c_transfer(&adap, rw, 2);
	result("other errno not retried", ret == -EIO && mock.calls == 1, ret, -EIO);

	adap_reset();
	adap.algo = &no_xfer_algo;
	ret = i2c_transfer(&adap, rw, 1);
	result("no master_xfer", ret == -EOPNOTSUPP && mock.locks == 0, ret, -EOPNOTSUPP);

	adap_reset();
	adap.quirks = &q;
	rw[0].len = 2;
	ret = i2c_transfer(&adap, rw, 1);
	result("quirk max_write_len", ret == -EOPNOTSUPP && mock.calls == 0, ret, -EOPNOTSUPP);
	rw[0].len = 1;
	rw[1].len = 0;
	ret = i2c_transfer(&adap, rw, 2);
	result("quirk no zero length read", ret == -EOPNOTSUPP && mock.calls == 0, ret,
	       -EOPNOTSUPP);
	rw[1].len = 3;
	ret = i2c_transfer(&adap, rw, 2);
	result("quirks allow", ret == 2 && mock.calls == 1, ret, 2);

	adap_reset();
	adap.locked_flags = 1 << I2C_ALF_IS_SUSPENDED;
	ret = __i2c_transfer(&adap, rw, 2);
	result("suspended", ret == -ESHUTDOWN && mock.calls == 0 &&
		adap.locked_flags == ((1 << I2C_ALF_IS_SUSPENDED) | (1 << I2C_ALF_SUSPEND_REPORTED)),
		ret, -ESHUTDOWN);
}

/* --- Debian's lnbp21.ko on the mock -------------------------------------- */

/* The frontend lnbp21 attaches to: opaque, zeroed, bigger than 6.1's struct dvb_frontend. */
static u8 fe[1024] __aligned(8);

#define FE_WORD(off) (*(unsigned long *)(fe + (off)))

typedef int (*set_voltage_fn)(struct dvb_frontend *, enum fe_sec_voltage);
typedef void (*release_fn)(struct dvb_frontend *);

static bool one_write(u16 addr, u8 byte)
{
	return mock.nmsgs == 1 && mock.addr[0] == addr && mock.flags[0] == 0 && mock.len[0] == 1 &&
	       mock.byte0[0] == byte;
}

static void check_lnbp21(void)
{
	struct dvb_frontend *f = (struct dvb_frontend *)fe;
	struct dvb_frontend *ret;
	set_voltage_fn set_voltage;
	release_fn release_sec;
	int r;

	/* A bus that fails: lnbp21 is "not present", attach gives NULL (and frees). */
	memset(fe, 0, sizeof(fe));
	adap_reset();
	mock.fail = EIO;
	ret = lnbp21_attach(f, &adap, 0, 0);
	result("lnbp21_attach on a failing bus", ret == NULL && mock.calls == 1,
	       ret == NULL ? 0 : 1, 0);

	/* One lost arbitration, retried by the core: attach writes ISEL to 0x08. */
	memset(fe, 0, sizeof(fe));
	adap_reset();
	mock.eagain = 1;
	ret = lnbp21_attach(f, &adap, 0, 0);
	result("lnbp21_attach", ret == f && mock.calls == 2 && one_write(0x08, LNBP21_ISEL) &&
		mock.locks == 1 && mock.unlocks == 1 && FE_WORD(DVB_FE_SEC_PRIV) != 0 &&
		FE_WORD(DVB_FE_SET_VOLTAGE) != 0 && FE_WORD(DVB_FE_RELEASE_SEC) != 0,
		mock.nmsgs ? mock.byte0[0] : -1, LNBP21_ISEL);
	if (ret != f || !FE_WORD(DVB_FE_SET_VOLTAGE) || !FE_WORD(DVB_FE_RELEASE_SEC))
		return;

	set_voltage = (set_voltage_fn)FE_WORD(DVB_FE_SET_VOLTAGE);
	release_sec = (release_fn)FE_WORD(DVB_FE_RELEASE_SEC);

	mock_reset();
	r = set_voltage(f, SEC_VOLTAGE_18);
	result("lnbp21 set_voltage(18V)", r == 0 && one_write(0x08, LNBP21_ISEL | LNBP21_EN | LNBP21_VSEL),
	       mock.nmsgs ? mock.byte0[0] : -1, LNBP21_ISEL | LNBP21_EN | LNBP21_VSEL);

	mock_reset();
	r = set_voltage(f, SEC_VOLTAGE_13);
	result("lnbp21 set_voltage(13V)", r == 0 && one_write(0x08, LNBP21_ISEL | LNBP21_EN),
	       mock.nmsgs ? mock.byte0[0] : -1, LNBP21_ISEL | LNBP21_EN);

	mock_reset();
	mock.fail = EIO;
	r = set_voltage(f, SEC_VOLTAGE_18);
	result("lnbp21 set_voltage on a failing bus", r == -EIO, r, -EIO);

	mock_reset();
	release_sec(f);
	result("lnbp21 release_sec", one_write(0x08, LNBP21_ISEL) && FE_WORD(DVB_FE_SEC_PRIV) == 0,
	       mock.nmsgs ? mock.byte0[0] : -1, LNBP21_ISEL);

	/* override_set/override_clear apply to every write: force PCL, clear ISEL. */
	memset(fe, 0, sizeof(fe));
	adap_reset();
	ret = lnbp21_attach(f, &adap, LNBP21_PCL, LNBP21_ISEL);
	result("lnbp21_attach with overrides", ret == f && one_write(0x08, LNBP21_PCL),
	       mock.nmsgs ? mock.byte0[0] : -1, LNBP21_PCL);
	if (ret == f && FE_WORD(DVB_FE_RELEASE_SEC))
		((release_fn)FE_WORD(DVB_FE_RELEASE_SEC))(f);
}

static int __init i2ccheck_init(void)
{
	check_core();
	check_lnbp21();
	pr_info("i2ccheck: %d passed, %d failed\n", passed, failed);
	return 0;
}

static void __exit i2ccheck_exit(void)
{
	pr_info("i2ccheck: unloaded\n");
}

module_init(i2ccheck_init);
module_exit(i2ccheck_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Kobold's I2C core against a mock adapter and Debian's lnbp21.ko");
