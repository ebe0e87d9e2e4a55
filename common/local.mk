# common/ — what hearthd and the shim both compile: the frame codec and the
# types and limits of an invocation.  Only libc, so the static shim links it.
COMMON_SOURCES = common/frame.c common/frame.h common/chan.c common/chan.h common/bounds.h common/bytes.h common/invocation.h
