# ntm — build, test and tooling.  `make help` lists the targets.
#
# Sources are found by convention so modules can be added without editing
# this file:
#   common/ srl/ meter/ drivers/ reader/   *.c        -> build/libntm.a
#   <dir>/main_<prog>.c                               -> build/bin/<prog>  (_ -> -)
#   tests/unit/test_<module>.c  (cmocka)              -> build/tests/test_<module>
#   tests/integration/*.sh      (TAP: "ok"/"not ok")  run by `make check`
#   tests/fuzz/fuzz_<target>.c  (libFuzzer)           -> build/fuzz/fuzz_<target>
#   tests/gen/<tool>.c          (test-data generators)-> build/bin/<tool>

BUILD    ?= build
CC       ?= cc
OPT      ?= -O2 -g
WARN     ?= -Wall -Wextra -Werror -Wno-missing-field-initializers
SAN      ?=
CFLAGS   += -std=c11 $(OPT) $(WARN) $(SAN) -fno-strict-aliasing
CPPFLAGS += -D_GNU_SOURCE -Icommon -Isrl -Imeter -Idrivers -Ireader -MMD -MP
LDFLAGS  += $(SAN)
LDLIBS   += $(shell pkg-config --libs libpcap 2>/dev/null || echo -lpcap)
# net-snmp's agent library (ntm-meter's Meter MIB agent) and its client
# library (ntm-reader), libevent (ntm-reader's loop)
LDLIBS   += -lnetsnmpagent -lnetsnmp -levent -lm -lpthread

# Optional parts (e.g. DPDK) add their flags in mk/*.mk.
-include $(wildcard mk/*.mk)

MODULE_DIRS := common srl meter drivers reader
ALL_SRCS  := $(foreach d,$(MODULE_DIRS),$(wildcard $(d)/*.c))
MAIN_SRCS := $(foreach d,$(MODULE_DIRS),$(wildcard $(d)/main_*.c))
LIB_SRCS  := $(filter-out $(MAIN_SRCS),$(ALL_SRCS))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB       := $(BUILD)/libntm.a

prog_name = $(subst _,-,$(patsubst main_%,%,$(basename $(notdir $(1)))))
PROGS     := $(foreach m,$(MAIN_SRCS),$(BUILD)/bin/$(call prog_name,$(m)))

GEN_SRCS  := $(wildcard tests/gen/*.c)
GENS      := $(GEN_SRCS:tests/gen/%.c=$(BUILD)/bin/%)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNITS     := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_SECONDS ?= 60

.SECONDARY:
.PHONY: all check asan fuzz deps demo bench clean help tests
all: $(PROGS) $(GENS)

help:
	@echo "make          build every program into $(BUILD)/bin"
	@echo "make deps     install missing Debian packages (root)"
	@echo "make check    build and run every test; ends with 'N passed, N failed'"
	@echo "make asan     the tests under AddressSanitizer + UBSan (build-asan/)"
	@echo "make fuzz     run each fuzz target for FUZZ_SECONDS (default 60) s"
	@echo "make demo     the main job on the bundled sample"
	@echo "make bench    performance figures into doc/performance.md"

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

define prog_rule
$(BUILD)/bin/$(call prog_name,$(1)): $(BUILD)/obj/$(1:.c=.o) $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach m,$(MAIN_SRCS),$(eval $(call prog_rule,$(m))))

$(BUILD)/bin/%: $(BUILD)/obj/tests/gen/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

tests: all $(UNITS)

check: tests
	@BUILD=$(BUILD) tests/run-tests.sh

asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" check

# libFuzzer needs clang; the library is rebuilt with coverage instrumentation.
FUZZ_BUILD := build-fuzz
fuzz:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang OPT="-O1 -g" \
		SAN="-fsanitize=fuzzer-no-link,address,undefined" $(FUZZ_BUILD)/libntm.a
	@mkdir -p $(FUZZ_BUILD)/fuzz
	@set -e; for src in $(FUZZ_SRCS); do \
		t=$$(basename $$src .c); \
		clang -std=c11 -O1 -g $(CPPFLAGS) -fsanitize=fuzzer,address,undefined \
			-o $(FUZZ_BUILD)/fuzz/$$t $$src $(FUZZ_BUILD)/libntm.a $(LDLIBS); \
	done
	@tests/fuzz/run-fuzz.sh $(FUZZ_BUILD)/fuzz $(FUZZ_SECONDS)

deps:
	@tools/deps.sh

demo: all
	@tools/demo.sh

bench: all
	@tools/bench.sh

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
