/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Addresses of a process, possibly exited by the time reports are written, to
 * module, symbol and file:line.
 *
 * The files the target maps are opened while it runs and the descriptors kept,
 * so that they resolve after it is gone, or after the files were deleted or
 * replaced. Symbols and DWARF are loaded on first use, once per module (two
 * mappings of one file, or two files of one build-id, share them). Separate
 * debug files are found by build-id and by .gnu_debuglink.
 *
 * Symbolizers share their modules: a file (the same device and inode, as
 * opened) that several processes map is opened and parsed once for all their
 * symbolizers, and closed when the last one using it is freed. Only where
 * each process mapped it is per symbolizer.
 *
 * Every file read comes from the target and may be hostile: nothing in it is
 * trusted for a size, an index or a string termination.
 *
 * Not thread-safe, and because of that sharing, not even per symbolizer: use
 * every symbolizer of the process from one thread.
 */
#ifndef TT_SYMBOLIZE_H
#define TT_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct symbolizer;

struct sym_frame {
	uint64_t ip;
	/* path of the ELF file as the target maps it, without the " (deleted)"
	 * the kernel appends; NULL if ip is in no known mapping */
	const char *module;
	/* ip in the file's link-time address space (what addr2line takes); the
	 * file offset when the file is not ELF or could not be read */
	uint64_t module_offset;
	const char *symbol;   /* function name, demangled if C++; NULL if unknown */
	uint64_t sym_offset;  /* ip - symbol start */
	const char *file;     /* source file from DWARF, NULL if none */
	int line;             /* 0 if none */
	/* an inlined call (symbolizer__resolve_chain): symbol is the inlined
	 * function, named by its DWARF (the abstract origin of the
	 * DW_TAG_inlined_subroutine), sym_offset is 0; ip, module and
	 * module_offset are those of the address, as for the real frame */
	bool inlined;
};

/*
 * A frame's name for people: its symbol, else "MODULE+0xOFFSET" (the
 * module's file name and module_offset), else "0xIP". Returns buf; the text
 * comes from the target: escape it where it is written.
 */
const char *sym_frame__label(const struct sym_frame *f, char *buf, size_t len);

/* At most this many inlined frames are given for one address: the outermost
 * ones, when the file nests more (a hostile or unusual file). */
#define SYM_MAX_INLINED 16
#define SYM_MAX_CHAIN	(SYM_MAX_INLINED + 1)

/*
 * pid: the target, for /proc/PID/maps, /proc/PID/map_files, /proc/PID/root;
 * 0 for a symbolizer that only serves symbolizer__resolve_file(). Returns 0 or
 * -errno (-ESRCH when there is no such process).
 */
int symbolizer__new(struct symbolizer **out, int pid);
void symbolizer__free(struct symbolizer *s);

/*
 * Where /usr/lib/debug is looked for on our side: DIR/usr/lib/debug instead
 * of /usr/lib/debug (tests, sysroots). NULL restores the default. Applies to
 * the files s opens after the call (call it before the first refresh or
 * resolve); a file is shared only by symbolizers with the same debug root.
 */
void symbolizer__set_debug_root(struct symbolizer *s, const char *dir);

/* An executable file mapping of the target, as /proc/PID/maps gave it. */
struct sym_mapping {
	uint64_t start, end;  /* [start, end) in the target's address space */
	uint64_t pgoff;       /* file offset of start */
	const char *path;     /* as sym_frame.module; owned by the symbolizer */
	const uint8_t *build_id; /* NULL when the file has none or was not read */
	size_t build_id_len;
};

/* The mapping ip is in (cheap, as symbolizer__knows()): 0, or -ENOENT
 * when none is known. out's pointers are valid until symbolizer__free(). */
int symbolizer__mapping(const struct symbolizer *s, uint64_t ip, struct sym_mapping *out);

/* Cheap (binary search, no syscalls): is ip inside an executable mapping
 * already known? */
bool symbolizer__knows(const struct symbolizer *s, uint64_t ip);

/*
 * Re-reads /proc/PID/maps and keeps every mapping seen before, so that what a
 * process dlclosed, or everything once it exited, still resolves; when a new
 * mapping overlaps an old one, the new one wins over the overlap. Each new
 * file-backed executable mapping has its file opened right away (through
 * /proc/PID/map_files, else /proc/PID/root/PATH) and the descriptor kept.
 * Returns 0 or -errno: -ESRCH when the process is gone (what is known stays).
 */
int symbolizer__refresh(struct symbolizer *s);

/*
 * Fills *out; its strings are owned by s and valid until symbolizer__free().
 * Never fails on bad or missing debug data: unknown parts are NULL/0. Returns
 * 0, or -ENOENT when ip is in no known mapping (*out then has only ip).
 * file:line are the line table's at ip, which is inside the innermost
 * inlined function when calls were inlined there: symbolizer__resolve_chain()
 * gives those frames.
 */
int symbolizer__resolve(struct symbolizer *s, uint64_t ip, struct sym_frame *out);

/*
 * Testing and offline use: symbolizes a link-time address of an ELF file on
 * our side. out->module is path, out->module_offset is vaddr. Returns 0, or
 * -errno when path cannot be opened, -ENOEXEC when it is not ELF.
 */
int symbolizer__resolve_file(struct symbolizer *s, const char *path, uint64_t vaddr,
			     struct sym_frame *out);

/*
 * The source-level frames at ip, where DWARF says calls were inlined there:
 * out[0..*nr), innermost first. Each inlined frame (inlined set) has the
 * inlined function's name; the first one's file:line is the line table's at
 * ip, each next one's is where it calls the one before (DW_AT_call_file,
 * DW_AT_call_line). The last frame is the real function, as
 * symbolizer__resolve() gives it, except its file:line: the call site of the
 * outermost inlined call. Without inlining (or DWARF), *nr is 1 and out[0]
 * is what symbolizer__resolve() gives. At most cap frames (cap >= 1;
 * SYM_MAX_CHAIN is enough), the outermost ones. Returns what
 * symbolizer__resolve() returns; *nr is at least 1 even then.
 *
 * Chains are cached per module, by address: asking again is cheap.
 */
int symbolizer__resolve_chain(struct symbolizer *s, uint64_t ip, struct sym_frame *out,
			      size_t cap, size_t *nr);
/* The same for a link-time address of a file, as symbolizer__resolve_file(). */
int symbolizer__resolve_file_chain(struct symbolizer *s, const char *path, uint64_t vaddr,
				   struct sym_frame *out, size_t cap, size_t *nr);

#endif /* TT_SYMBOLIZE_H */
