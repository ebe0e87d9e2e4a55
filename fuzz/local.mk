# fuzz/ — libFuzzer harnesses (fuzz/README.md).  Each fuzz/NAME.c holds one
# LLVMFuzzerTestOneInput and is built twice:
#   - in every build, with replay.c as fuzz/replay_NAME, a test of make
#     check that replays the committed corpus (fuzz/corpus/NAME) and the
#     inputs that once broke something (fuzz/crashes/NAME);
#   - under ./configure --enable-fuzzing (clang, ASan, UBSan), linked with
#     libFuzzer as fuzz/NAME; `make fuzz` runs each for FUZZ_SECONDS.
# A new harness is a word in FUZZ_NAMES plus its two blocks below.
FUZZ_NAMES = fn_body zip_unpack frame_hearthd frame_shim api_route route_match json_strict \
	sigv4 lambda_map lane_chan
FUZZ_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/fuzz -DFUZZ_DIR='"$(abs_top_srcdir)/fuzz"'
# frame_shim compiles the shim's own files.
FUZZ_SHIM_CPPFLAGS = -I$(top_srcdir)/runtimes/shim
FUZZ_SHIM_SOURCES = runtimes/shim/reply.c runtimes/shim/reply.h
# json_strict's reference, jansson, and json-c both define json_object_get
# and json_object_iter_next, so one program cannot link both as they come:
# json_ref.c and jansson's static archive become one object in which
# every symbol but json_ref.h's is local.
FUZZ_JSON_REF_KEEP = --keep-global-symbol=json_ref_read --keep-global-symbol=json_dump_add \
	--keep-global-symbol=json_dump_str --keep-global-symbol=json_dump_printf
if HEARTH_JANSSON
FUZZ_JANSSON_CPPFLAGS = -DFUZZ_HAVE_JANSSON
FUZZ_JANSSON_OBJ = fuzz/json_ref-jansson.o
fuzz/json_ref-jansson.o: $(srcdir)/fuzz/json_ref.c $(srcdir)/fuzz/json_ref.h $(srcdir)/fuzz/fuzz.h
	@$(MKDIR_P) fuzz
	$(AM_V_CC)$(COMPILE) $(FUZZ_CPPFLAGS) $(JANSSON_CFLAGS) -c -o fuzz/json_ref-plain.o \
		$(srcdir)/fuzz/json_ref.c
	$(AM_V_GEN)$(LD) -r -o fuzz/json_ref-merged.o fuzz/json_ref-plain.o \
		--whole-archive $(JANSSON_ARCHIVE) && \
	$(OBJCOPY) $(FUZZ_JSON_REF_KEEP) fuzz/json_ref-merged.o $@ && \
	rm -f fuzz/json_ref-plain.o fuzz/json_ref-merged.o
CLEANFILES += fuzz/json_ref-jansson.o
endif
EXTRA_DIST += fuzz/README.md fuzz/fuzz.h fuzz/json_ref.c fuzz/seeds.py fuzz/corpus fuzz/crashes \
	fuzz/fn_body.dict fuzz/json_strict.dict fuzz/api_route.dict fuzz/route_match.dict \
	fuzz/sigv4.dict fuzz/lambda_map.dict

# ---- the replays: make check ----------------------------------------------
FUZZ_REPLAYS = fuzz/replay_fn_body fuzz/replay_zip_unpack fuzz/replay_frame_hearthd \
	fuzz/replay_frame_shim fuzz/replay_api_route fuzz/replay_route_match \
	fuzz/replay_json_strict fuzz/replay_sigv4 fuzz/replay_lambda_map fuzz/replay_lane_chan
check_PROGRAMS += $(FUZZ_REPLAYS)
TESTS += $(FUZZ_REPLAYS)
fuzz_replay_fn_body_SOURCES = fuzz/fn_body.c fuzz/replay.c fuzz/fuzz.h
fuzz_replay_fn_body_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"fn_body"'
fuzz_replay_zip_unpack_SOURCES = fuzz/zip_unpack.c fuzz/replay.c fuzz/fuzz.h
fuzz_replay_zip_unpack_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"zip_unpack"'
fuzz_replay_frame_hearthd_SOURCES = fuzz/frame_hearthd.c fuzz/replay.c fuzz/fuzz.h
fuzz_replay_frame_hearthd_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"frame_hearthd"'
fuzz_replay_frame_shim_SOURCES = fuzz/frame_shim.c fuzz/replay.c fuzz/fuzz.h $(FUZZ_SHIM_SOURCES)
fuzz_replay_frame_shim_CPPFLAGS = $(FUZZ_CPPFLAGS) $(FUZZ_SHIM_CPPFLAGS) \
	-DFUZZ_NAME='"frame_shim"'
fuzz_replay_api_route_SOURCES = fuzz/api_route.c fuzz/replay.c fuzz/fuzz.h
fuzz_replay_api_route_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"api_route"'
fuzz_replay_route_match_SOURCES = fuzz/route_match.c fuzz/replay.c fuzz/fuzz.h
fuzz_replay_route_match_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"route_match"'
fuzz_replay_json_strict_SOURCES = fuzz/json_strict.c fuzz/replay.c fuzz/fuzz.h fuzz/json_ref.h
fuzz_replay_json_strict_CPPFLAGS = $(FUZZ_CPPFLAGS) $(FUZZ_JANSSON_CPPFLAGS) \
	-DFUZZ_NAME='"json_strict"'
fuzz_replay_json_strict_LDADD = $(FUZZ_JANSSON_OBJ) $(LDADD)
fuzz_replay_sigv4_SOURCES = fuzz/sigv4.c fuzz/replay.c fuzz/fuzz.h
fuzz_replay_sigv4_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"sigv4"'
fuzz_replay_lambda_map_SOURCES = fuzz/lambda_map.c fuzz/replay.c fuzz/fuzz.h
fuzz_replay_lambda_map_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"lambda_map"'
fuzz_replay_lane_chan_SOURCES = fuzz/lane_chan.c fuzz/replay.c fuzz/fuzz.h
fuzz_replay_lane_chan_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"lane_chan"'

# ---- the fuzzers: --enable-fuzzing ----------------------------------------
FUZZ_HARNESSES = fuzz/fn_body fuzz/zip_unpack fuzz/frame_hearthd fuzz/frame_shim \
	fuzz/api_route fuzz/route_match fuzz/json_strict fuzz/sigv4 fuzz/lambda_map fuzz/lane_chan
if HEARTH_FUZZING
noinst_PROGRAMS += $(FUZZ_HARNESSES)
endif
fuzz_fn_body_SOURCES = fuzz/fn_body.c fuzz/fuzz.h
fuzz_fn_body_CPPFLAGS = $(FUZZ_CPPFLAGS)
fuzz_fn_body_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_zip_unpack_SOURCES = fuzz/zip_unpack.c fuzz/fuzz.h
fuzz_zip_unpack_CPPFLAGS = $(FUZZ_CPPFLAGS)
fuzz_zip_unpack_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_frame_hearthd_SOURCES = fuzz/frame_hearthd.c fuzz/fuzz.h
fuzz_frame_hearthd_CPPFLAGS = $(FUZZ_CPPFLAGS)
fuzz_frame_hearthd_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_frame_shim_SOURCES = fuzz/frame_shim.c fuzz/fuzz.h $(FUZZ_SHIM_SOURCES)
fuzz_frame_shim_CPPFLAGS = $(FUZZ_CPPFLAGS) $(FUZZ_SHIM_CPPFLAGS)
fuzz_frame_shim_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_api_route_SOURCES = fuzz/api_route.c fuzz/fuzz.h
fuzz_api_route_CPPFLAGS = $(FUZZ_CPPFLAGS)
fuzz_api_route_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_route_match_SOURCES = fuzz/route_match.c fuzz/fuzz.h
fuzz_route_match_CPPFLAGS = $(FUZZ_CPPFLAGS)
fuzz_route_match_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_json_strict_SOURCES = fuzz/json_strict.c fuzz/fuzz.h fuzz/json_ref.h
fuzz_json_strict_CPPFLAGS = $(FUZZ_CPPFLAGS) $(FUZZ_JANSSON_CPPFLAGS)
fuzz_json_strict_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_json_strict_LDADD = $(FUZZ_JANSSON_OBJ) $(LDADD)
fuzz_sigv4_SOURCES = fuzz/sigv4.c fuzz/fuzz.h
fuzz_sigv4_CPPFLAGS = $(FUZZ_CPPFLAGS)
fuzz_sigv4_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_lambda_map_SOURCES = fuzz/lambda_map.c fuzz/fuzz.h
fuzz_lambda_map_CPPFLAGS = $(FUZZ_CPPFLAGS)
fuzz_lambda_map_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_lane_chan_SOURCES = fuzz/lane_chan.c fuzz/fuzz.h
fuzz_lane_chan_CPPFLAGS = $(FUZZ_CPPFLAGS)
fuzz_lane_chan_LDFLAGS = $(FUZZ_LDFLAGS)

# make fuzz: each harness (FUZZ_TARGETS, all by default) for FUZZ_SECONDS,
# from a scratch corpus in the build folder (fuzz/work/NAME) seeded with the
# committed one, so a run never writes into the source tree; a finding
# lands in fuzz/artifacts/ and fails the target.  The log of each run is
# fuzz/work/NAME.log.  fuzz/README.md has longer runs and how to keep what
# they find.  make fuzz-list names the harnesses (test.sh counts one point
# for each).
FUZZ_SECONDS = 10
FUZZ_TARGETS = $(FUZZ_NAMES)
FUZZ_FLAGS =
.PHONY: fuzz fuzz-list
fuzz-list:
	@echo $(FUZZ_NAMES)
if HEARTH_FUZZING
fuzz: $(FUZZ_HARNESSES)
	@failed=""; \
	for n in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/work/$$n fuzz/artifacts; \
	  seeds=""; \
	  for d in $(srcdir)/fuzz/corpus/$$n $(srcdir)/fuzz/crashes/$$n; do \
	    test -d $$d && seeds="$$seeds $$d"; \
	  done; \
	  dict=""; test -f $(srcdir)/fuzz/$$n.dict && dict="-dict=$(srcdir)/fuzz/$$n.dict"; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS) s (log: fuzz/work/$$n.log)"; \
	  if ./fuzz/$$n -max_total_time=$(FUZZ_SECONDS) -timeout=20 -print_final_stats=1 \
	      -artifact_prefix=fuzz/artifacts/$$n- $$dict $(FUZZ_FLAGS) \
	      fuzz/work/$$n $$seeds >fuzz/work/$$n.log 2>&1; then \
	    grep -E '^stat::(number_of_executed_units|peak_rss_mb|new_units_added)|^#[0-9]+.*(DONE|pulse)' \
	      fuzz/work/$$n.log | tail -4 | sed "s/^/  $$n: /"; \
	  else \
	    tail -40 fuzz/work/$$n.log; \
	    echo "fuzz: $$n FAILED: see fuzz/work/$$n.log and fuzz/artifacts/"; \
	    failed="$$failed $$n"; \
	  fi; \
	done; \
	test -z "$$failed" || { echo "fuzz: findings in:$$failed"; exit 1; }
else
fuzz:
	@echo "make fuzz: this build is not configured with --enable-fuzzing (clang and libFuzzer); see fuzz/README.md" >&2; exit 1
endif
clean-local: clean-fuzz-work
.PHONY: clean-fuzz-work
clean-fuzz-work:
	-rm -rf fuzz/work fuzz/artifacts
