/*
 * Linux 6.1 include/linux/i2c.h (the subset used), laid out as Debian's 6.1 armmp build has
 * it. The offsets are read from Debian's own modules (kernel/src/module/linux61/i2c.rs cites
 * the instruction for each): i2c-mux.ko (algo +8, algo_data +12, lock_ops +16, mux_lock +36,
 * timeout +52, retries +56, dev +64, nr +564, name +568, quirks +664), i2c-exynos5.ko
 * (locked_flags +560), lnbp21.ko (struct i2c_msg on its stack). Fields nobody here touches
 * are opaque bytes; the _Static_asserts pin every named one.
 */
#ifndef _LINUX61_I2C_H
#define _LINUX61_I2C_H

#include <linux/types.h>

struct i2c_adapter;

/* include/uapi/linux/i2c.h */
struct i2c_msg {
	u16 addr;
	u16 flags;
#define I2C_M_RD 0x0001
	u16 len;
	u8 *buf;
};

struct i2c_algorithm {
	int (*master_xfer)(struct i2c_adapter *adap, struct i2c_msg *msgs, int num);
	int (*master_xfer_atomic)(struct i2c_adapter *adap, struct i2c_msg *msgs, int num);
	void *smbus_xfer;
	void *smbus_xfer_atomic;
	u32 (*functionality)(struct i2c_adapter *adap);
	void *reg_slave; /* CONFIG_I2C_SLAVE */
	void *unreg_slave;
};

#define I2C_LOCK_ROOT_ADAPTER 0x01
#define I2C_LOCK_SEGMENT 0x02

struct i2c_lock_operations {
	void (*lock_bus)(struct i2c_adapter *adap, unsigned int flags);
	int (*trylock_bus)(struct i2c_adapter *adap, unsigned int flags);
	void (*unlock_bus)(struct i2c_adapter *adap, unsigned int flags);
};

#define I2C_AQ_COMB (1ULL << 0)
#define I2C_AQ_COMB_WRITE_FIRST (1ULL << 1)
#define I2C_AQ_COMB_READ_SECOND (1ULL << 2)
#define I2C_AQ_COMB_SAME_ADDR (1ULL << 3)
#define I2C_AQ_NO_ZERO_LEN_READ (1ULL << 5)
#define I2C_AQ_NO_ZERO_LEN_WRITE (1ULL << 6)

struct i2c_adapter_quirks {
	u64 flags;
	int max_num_msgs;
	u16 max_write_len;
	u16 max_read_len;
	u16 max_comb_1st_msg_len;
	u16 max_comb_2nd_msg_len;
};

/* I2C_ALF_* bits of locked_flags */
#define I2C_ALF_IS_SUSPENDED 0
#define I2C_ALF_SUSPEND_REPORTED 1

struct i2c_adapter {
	struct module *owner; /* +0 */
	unsigned int class; /* +4 */
	const struct i2c_algorithm *algo; /* +8 */
	void *algo_data; /* +12 */
	const struct i2c_lock_operations *lock_ops; /* +16 */
	unsigned char __bus_lock[16]; /* +20: struct rt_mutex */
	unsigned char __mux_lock[16]; /* +36: struct rt_mutex */
	int timeout; /* +52, in jiffies (HZ 250) */
	int retries; /* +56 */
	unsigned char __dev[560 - 60]; /* +64: struct device (8-aligned), padding before */
	unsigned long locked_flags; /* +560 */
	int nr; /* +564 */
	char name[48]; /* +568 */
	unsigned char __opaque_616[664 - 616];
	const struct i2c_adapter_quirks *quirks; /* +664 */
	unsigned char __opaque_668[696 - 668];
} __aligned(8);

_Static_assert(__builtin_offsetof(struct i2c_adapter, algo) == 8, "algo at +8");
_Static_assert(__builtin_offsetof(struct i2c_adapter, lock_ops) == 16, "lock_ops at +16");
_Static_assert(__builtin_offsetof(struct i2c_adapter, timeout) == 52, "timeout at +52");
_Static_assert(__builtin_offsetof(struct i2c_adapter, retries) == 56, "retries at +56");
_Static_assert(__builtin_offsetof(struct i2c_adapter, locked_flags) == 560, "locked_flags");
_Static_assert(__builtin_offsetof(struct i2c_adapter, nr) == 564, "nr at +564");
_Static_assert(__builtin_offsetof(struct i2c_adapter, name) == 568, "name at +568");
_Static_assert(__builtin_offsetof(struct i2c_adapter, quirks) == 664, "quirks at +664");
_Static_assert(sizeof(struct i2c_msg) == 12, "struct i2c_msg is 12 bytes");
_Static_assert(__builtin_offsetof(struct i2c_adapter_quirks, max_write_len) == 12, "quirks");

/* drivers/i2c/i2c-core-base.c */
extern int i2c_transfer(struct i2c_adapter *adap, struct i2c_msg *msgs, int num);
extern int __i2c_transfer(struct i2c_adapter *adap, struct i2c_msg *msgs, int num);

#endif
