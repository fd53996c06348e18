# mk/dpdk.mk — the DPDK capture back end (drivers/cap_dpdk.c).
#
# Only when libdpdk is installed: DPDK's compiler flags (its headers want
# GNU C and a -march) apply to cap_dpdk.o alone, so the rest of the tree
# keeps -std=c11 and the default target; its libraries join LDLIBS.
# Without libdpdk, cap_dpdk.c compiles to a stub that refuses with an
# error naming the missing package.

ifeq ($(shell pkg-config --exists libdpdk 2>/dev/null && echo yes),yes)
# -isystem: warnings in DPDK's own headers are not ours to fix under -Werror
DPDK_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags libdpdk))
DPDK_LIBS   := $(shell pkg-config --libs libdpdk)

# ALLOW_EXPERIMENTAL_API: rte_eth_read_clock (NIC clock calibration) is
# still marked experimental in DPDK 22.11
$(BUILD)/obj/drivers/cap_dpdk.o: CPPFLAGS += -DNTM_HAVE_DPDK -DALLOW_EXPERIMENTAL_API $(DPDK_CFLAGS)
$(BUILD)/obj/drivers/cap_dpdk.o: CFLAGS += -std=gnu11
LDLIBS += $(DPDK_LIBS)
endif
